// Per-stage cost of one authenticated 2026-07-28 tools/call (echo) through the SDK, in-process:
// each stage run alone in a tight loop, best of several rounds (the machine may be shared).
//
//   npx tsx bench/mcp-stages.ts          (STAGES_ITERATIONS=N per round, default 2000; STAGES_ROUNDS=N, default 5)
//
// The stages are what transport.serve does for such a request, in order; "whole" is the real thing.

import { toWebRequest } from '@modelcontextprotocol/node';
import { type AuthInfo, createMcpHandler, isLegacyRequest } from '@modelcontextprotocol/server';
import type { ServerContext } from '../reference-server/context.ts';
import { DEFAULT_LIMITS } from '../reference-server/limits.ts';
import { buildMcpServer, createNotesStateGuard, NoteBook } from '../reference-server/rs/mcp-server.ts';
import { createMcpTransport } from '../reference-server/rs/transport.ts';

const ITERATIONS = Number(process.env.STAGES_ITERATIONS ?? 2000);
const ROUNDS = Number(process.env.STAGES_ROUNDS ?? 5);
const notes = new NoteBook();
// What the transport reads of the context: faults, caps, and the origin it answers as.
const ctx = {
  fault: () => false,
  limits: DEFAULT_LIMITS,
  rsOrigin: 'http://127.0.0.1:1',
} as unknown as ServerContext;
const notesState = createNotesStateGuard(ctx);
const authInfo: AuthInfo = {
  token: 'opaque',
  clientId: 'bench',
  scopes: ['mcp:tools'],
  extra: { sub: 'bench' },
};
const headers: Record<string, string> = {
  host: '127.0.0.1:1',
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  authorization: 'Bearer opaque',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'echo',
};
const body = {
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    name: 'echo',
    arguments: { text: 'hello' },
    _meta: {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1.0.0' },
    },
  },
};
const nodeLike = { method: 'POST', url: '/mcp', headers, [Symbol.asyncIterator]: async function* () {} };
const webRequest = () =>
  toWebRequest(nodeLike as unknown as Parameters<typeof toWebRequest>[0], body, {
    signal: new AbortController().signal,
  });

const modern = createMcpHandler(() => buildMcpServer(notes, notesState), { legacy: 'reject' });
const transport = createMcpTransport(ctx, () => buildMcpServer(notes, notesState));
const fakeRes = () => {
  const res = {
    destroyed: false,
    on: () => res,
    writeHead: () => res,
    write: () => true,
    end: () => res,
  };
  return res as unknown as Parameters<typeof transport.serve>[1];
};

const stages: [string, () => Promise<unknown>][] = [
  ['toWebRequest (node adapter, parsedBody)', webRequest],
  ['isLegacyRequest(request, parsedBody)', async () => isLegacyRequest(await webRequest(), body)],
  ['factory: buildMcpServer()', async () => buildMcpServer(notes, notesState)],
  [
    'createMcpHandler.fetch + read body',
    async () => (await modern.fetch(await webRequest(), { parsedBody: body, authInfo })).text(),
  ],
  ['  of which toWebRequest (subtract)', webRequest],
  [
    'whole: transport.serve (fake res)',
    async () => transport.serve(nodeLike as never, fakeRes(), body, authInfo),
  ],
];

const sample = await (await modern.fetch(await webRequest(), { parsedBody: body, authInfo })).text();
if (!sample.includes('"hello"')) throw new Error(`unexpected answer: ${sample}`);
const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, stage] of stages) {
    for (let i = 0; i < 200; i++) await stage();
    const t0 = performance.now();
    for (let i = 0; i < ITERATIONS; i++) await stage();
    const us = ((performance.now() - t0) * 1000) / ITERATIONS;
    best.set(name, Math.min(best.get(name) ?? Infinity, us));
  }
}
for (const [name, us] of best) console.log(`${name.padEnd(44)} ${us.toFixed(1).padStart(7)} µs`);
await modern.close();
await transport.close();
