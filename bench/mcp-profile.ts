// In-process cost of one authenticated tools/call through the reference server's MCP transport,
// without HTTP or token verification: what the SDK path costs per request.
//
//   npx tsx bench/mcp-profile.ts                 (prints CPU µs per request per mode)
//   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/mcp-profile.ts
//   node bench/profile-summary.mjs /tmp/prof/<file>.cpuprofile
//
// Modes (PROFILE_MODE=fetch|serve|both, default both; PROFILE_REVISION=2026-07-28|2025-11-25|both):
//   fetch   transport.fetch(new Request(...), { parsedBody, authInfo }): the SDK's own path
//   serve   transport.serve(nodeLikeReq, fakeRes, parsedBody, authInfo): plus toNodeHandler's
//           Node → web Request conversion and the response copy, as in production
// PROFILE_ITERATIONS=N (default 3000) measured requests after 300 warm-up requests.
// PROFILE_SERVER_MODULE=path: take buildMcpServer/NoteBook from another copy of mcp-server.ts
// (an A/B comparison against an older version of it).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { ServerContext } from '../reference-server/context.ts';
import { DEFAULT_LIMITS } from '../reference-server/limits.ts';
import * as defaultServerModule from '../reference-server/rs/mcp-server.ts';
import { createMcpTransport } from '../reference-server/rs/transport.ts';

const ITERATIONS = Number(process.env.PROFILE_ITERATIONS ?? 3000);
const MODE = process.env.PROFILE_MODE ?? 'both';
const REVISION = process.env.PROFILE_REVISION ?? 'both';
const URL_ = 'http://127.0.0.1:1/mcp';

const { buildMcpServer, NoteBook } = (
  process.env.PROFILE_SERVER_MODULE
    ? await import(new URL(process.env.PROFILE_SERVER_MODULE, `file://${process.cwd()}/`).href)
    : defaultServerModule
) as typeof defaultServerModule;
// What the transport reads of the context: faults, caps, and the origin it answers as.
const ctx = {
  fault: () => false,
  limits: DEFAULT_LIMITS,
  rsOrigin: 'http://127.0.0.1:1',
} as unknown as ServerContext;
// The requestState guard always comes from this checkout (a profiled older module ignores it).
const notesState = defaultServerModule.createNotesStateGuard(ctx);
const transport = createMcpTransport(ctx, () => buildMcpServer(new NoteBook(), notesState));
const authInfo: AuthInfo = {
  token: 'opaque',
  clientId: 'bench',
  scopes: ['mcp:tools'],
  extra: { sub: 'bench' },
};

function echo(revision: string): { headers: Record<string, string>; body: Record<string, unknown> } {
  const headers: Record<string, string> = {
    host: '127.0.0.1:1',
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    authorization: 'Bearer opaque',
    'mcp-protocol-version': revision,
  };
  const params: Record<string, unknown> = { name: 'echo', arguments: { text: 'hello' } };
  if (revision === '2026-07-28') {
    headers['mcp-method'] = 'tools/call';
    headers['mcp-name'] = 'echo';
    params._meta = {
      'io.modelcontextprotocol/protocolVersion': revision,
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1.0.0' },
    };
  }
  return { headers, body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params } };
}

async function viaFetch(revision: string): Promise<string> {
  const { headers, body } = echo(revision);
  const text = JSON.stringify(body);
  const request = new Request(URL_, { method: 'POST', headers, body: text });
  const response = await transport.fetch(request, { parsedBody: JSON.parse(text), authInfo });
  const out = await response.text();
  if (response.status !== 200) throw new Error(`fetch ${revision}: ${response.status} ${out}`);
  return out;
}

async function viaServe(revision: string): Promise<string> {
  const { headers, body } = echo(revision);
  const text = JSON.stringify(body);
  headers['content-length'] = String(Buffer.byteLength(text));
  const req = {
    method: 'POST',
    url: '/mcp',
    headers,
    async *[Symbol.asyncIterator]() {
      yield Buffer.from(text);
    },
  } as unknown as IncomingMessage;
  let status = 0;
  const chunks: string[] = [];
  const res = {
    destroyed: false,
    on() {
      return res;
    },
    writeHead(code: number) {
      status = code;
      return res;
    },
    write(chunk: Uint8Array | string) {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    },
    end() {
      return res;
    },
  } as unknown as ServerResponse;
  await transport.serve(req, res, JSON.parse(text), authInfo);
  const out = chunks.join('');
  if (status !== 200) throw new Error(`serve ${revision}: ${status} ${out}`);
  return out;
}

async function measure(name: string, once: () => Promise<string>): Promise<void> {
  const sample = await once();
  if (!sample.includes('hello')) throw new Error(`${name}: unexpected answer ${sample}`);
  for (let i = 0; i < 300; i++) await once();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < ITERATIONS; i++) await once();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = (cpu.user + cpu.system) / ITERATIONS;
  console.log(
    `${name.padEnd(24)} ${(wall / ITERATIONS).toFixed(3)} ms wall/req  ${(cpuUs / 1000).toFixed(3)} ms CPU/req  (${ITERATIONS} req)`,
  );
}

const revisions = REVISION === 'both' ? ['2026-07-28', '2025-11-25'] : [REVISION];
for (const revision of revisions) {
  if (MODE !== 'serve') await measure(`fetch ${revision}`, () => viaFetch(revision));
  if (MODE !== 'fetch') await measure(`serve ${revision}`, () => viaServe(revision));
}
await transport.close();
