#!/usr/bin/env node
// The installed command. The package runs its compiled JavaScript (dist/, built by `npm pack`'s
// prepack script) on plain Node >= 20. In a checkout of the repository, where the TypeScript
// sources sit beside this file, it runs those through tsx (a devDependency) instead, so a source
// edit needs no build step and a stale dist/ is never run.
import { existsSync } from 'node:fs';

const sources = new URL('../cli/main.ts', import.meta.url);
let main;
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
