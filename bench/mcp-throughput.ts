// Benchmark: authenticated MCP tools/call against the reference server, side by side with a bare
// node:http JSON endpoint on the same machine (the ceiling), with autocannon, on loopback.
//
//   npx tsx bench/mcp-throughput.ts            (5 s per row; BENCH_SECONDS=N to change,
//                                               BENCH_CONNECTIONS=N for concurrency, default 10)
//
// Rows, to show where the time goes:
//   ceiling          bare node:http: read the body, JSON.parse, answer a small JSON-RPC result
//   401 (no SDK)     /mcp without a token: Origin + header + body peek + challenge, SDK never runs
//   403 (no SDK)     write_note with a token lacking mcp:write: the ES256 token IS verified, then
//                    the scope check answers; the SDK never runs
//   PRM GET          the protected-resource metadata document
//   tools/call 2026  2026-07-28 echo with a verified ES256 token (per-request server instance)
//   tools/call 2025  2025-11-25 echo with a verified token, session-less (stateless legacy leg)

import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { importJWK, SignJWT } from 'jose';
import { startReferenceServer } from '../reference-server/server.ts';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx': number;
}
type Autocannon = (options: {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  connections: number;
  duration: number;
}) => Promise<AutocannonResult>;

// autocannon ships no types; this is the part of its API the benchmark uses.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

interface Row {
  name: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** The status every response must have; anything else counts as an error of the row. */
  expect: number;
}

async function startCeiling(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const message = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { id?: unknown };
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: message.id ?? null,
        result: { content: [{ type: 'text', text: 'hello' }] },
      });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function echoRequest(
  revision: '2026-07-28' | '2025-11-25',
  token: string,
): { headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    Authorization: `Bearer ${token}`,
    'MCP-Protocol-Version': revision,
  };
  const params: Record<string, unknown> = { name: 'echo', arguments: { text: 'hello' } };
  if (revision === '2026-07-28') {
    headers['Mcp-Method'] = 'tools/call';
    headers['Mcp-Name'] = 'echo';
    params._meta = {
      'io.modelcontextprotocol/protocolVersion': revision,
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1.0.0' },
    };
  }
  return { headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params }) };
}

async function run(row: Row): Promise<AutocannonResult> {
  // One request first: the row must be answering what we think it answers.
  const probe = await fetch(row.url, { method: row.method, headers: row.headers, body: row.body });
  const text = await probe.text();
  if (probe.status !== row.expect)
    throw new Error(`${row.name}: expected ${row.expect}, got ${probe.status} ${text.slice(0, 200)}`);
  return autocannon({
    url: row.url,
    method: row.method,
    headers: row.headers,
    body: row.body,
    connections: CONNECTIONS,
    duration: SECONDS,
  });
}

async function main(): Promise<void> {
  const ceiling = await startCeiling();
  const reference = await startReferenceServer({});
  try {
    const key = await importJWK(reference.signingKey, 'ES256');
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ client_id: 'bench', scope: 'mcp:tools' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: reference.signingKey.kid as string })
      .setIssuer(reference.issuer)
      .setAudience(reference.url)
      .setSubject('bench')
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(key);
    const ceilingUrl = `http://127.0.0.1:${(ceiling.address() as AddressInfo).port}/`;
    const modern = echoRequest('2026-07-28', token);
    const legacy = echoRequest('2025-11-25', token);
    const anonymous = echoRequest('2026-07-28', token);
    delete anonymous.headers.Authorization;
    const writeNote = echoRequest('2026-07-28', token);
    writeNote.headers['Mcp-Name'] = 'write_note';
    writeNote.body = writeNote.body.replace('"echo"', '"write_note"');
    const prmUrl = `${new URL(reference.url).origin}/.well-known/oauth-protected-resource/mcp`;
    const rows: Row[] = [
      {
        name: 'ceiling (bare node:http JSON)',
        url: ceilingUrl,
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: modern.body,
        expect: 200,
      },
      { name: '401 without token (no SDK)', url: reference.url, method: 'POST', ...anonymous, expect: 401 },
      {
        name: '403 scope (token verified, no SDK)',
        url: reference.url,
        method: 'POST',
        ...writeNote,
        expect: 403,
      },
      { name: 'PRM GET', url: prmUrl, method: 'GET', headers: {}, expect: 200 },
      { name: 'tools/call echo 2026-07-28', url: reference.url, method: 'POST', ...modern, expect: 200 },
      { name: 'tools/call echo 2025-11-25', url: reference.url, method: 'POST', ...legacy, expect: 200 },
    ];

    console.log(
      `autocannon: ${CONNECTIONS} connections, ${SECONDS} s per row, loopback, node ${process.version}\n`,
    );
    const results: [Row, AutocannonResult][] = [];
    for (const row of rows) results.push([row, await run(row)]);

    const pad = (text: string, width: number) => text.padEnd(width);
    console.log(
      `${pad('row', 36)}${pad('req/s', 10)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('unexpected', 11)}ratio`,
    );
    const ceilingRps = results[0]![1].requests.average;
    for (const [row, r] of results) {
      // autocannon counts 4xx as non2xx: for the 401/403 rows those are the expected answers.
      const unexpected = r.errors + r.timeouts + (row.expect === 200 ? r.non2xx : r['2xx']);
      console.log(
        `${pad(row.name, 36)}${pad(r.requests.average.toFixed(0), 10)}${pad(String(r.latency.p50), 9)}${pad(String(r.latency.p99), 9)}${pad(String(unexpected), 11)}${(r.requests.average / ceilingRps).toFixed(2)}`,
      );
    }
    const main2026 = results[4]![1].requests.average;
    console.log(
      `\nauthenticated tools/call (2026-07-28) / ceiling = ${(main2026 / ceilingRps).toFixed(2)} (goal: >= 0.50)`,
    );
  } finally {
    await reference.close();
    await new Promise<void>((resolve) => {
      ceiling.close(() => resolve());
      ceiling.closeAllConnections();
    });
  }
}

await main();
