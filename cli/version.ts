// The package's version, read from its package.json: two folders up from dist/cli/version.js in
// the installed package, one up from cli/version.ts in the repository.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 3; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'mcp-auth-conformance' && pkg.version) return pkg.version;
  }
  return '0.0.0-unknown';
}

export const VERSION: string = findVersion();
