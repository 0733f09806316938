// `npm run schemas`: writes the JSON Schemas generated from the zod schemas into schemas/.
// A test (test/runner/cli.test.ts) fails when a committed file is stale.

import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ReportSchema } from '../reports/json.ts';
import { configJsonSchema } from './config.ts';

export const SCHEMA_FILES: Record<string, () => unknown> = {
  'config.schema.json': configJsonSchema,
  'report.schema.json': () => ({
    ...z.toJSONSchema(ReportSchema, { io: 'output' }),
    title: 'mcp-auth-conformance report.json',
  }),
};

export function renderSchema(make: () => unknown): string {
  return `${JSON.stringify(make(), null, 2)}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const [name, make] of Object.entries(SCHEMA_FILES)) {
    const file = fileURLToPath(new URL(`../schemas/${name}`, import.meta.url));
    writeFileSync(file, renderSchema(make));
    console.log(`wrote schemas/${name}`);
  }
}
