#!/usr/bin/env node
// The package ships TypeScript sources and runs them through tsx (a runtime dependency),
// so `npx mcp-auth-conformance` and `npm start` execute the same code with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
