// Profiles the reference server itself while autocannon (a child process) sends authenticated
// 2026-07-28 tools/call echo requests over loopback: the real HTTP path, token check included.
//
//   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/mcp-http-profile.ts
//   node bench/profile-summary.mjs /tmp/prof/*.cpuprofile
//
// HTTP_PROFILE_SECONDS=N (default 10), HTTP_PROFILE_CONNECTIONS=N (default 10),
// HTTP_PROFILE_ROW=echo|403 (default echo: 403 is write_note without mcp:write, no SDK).

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { importJWK, SignJWT } from 'jose';
import { startReferenceServer } from '../reference-server/server.ts';

const SECONDS = Number(process.env.HTTP_PROFILE_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.HTTP_PROFILE_CONNECTIONS ?? 10);
const ROW = process.env.HTTP_PROFILE_ROW ?? 'echo';
const tool = ROW === '403' ? 'write_note' : 'echo';

const reference = await startReferenceServer({});
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
const body = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    name: tool,
    arguments: { text: 'hello' },
    _meta: {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1.0.0' },
    },
  },
});
const headers = [
  'Content-Type: application/json',
  'Accept: application/json, text/event-stream',
  `Authorization: Bearer ${token}`,
  'MCP-Protocol-Version: 2026-07-28',
  'Mcp-Method: tools/call',
  `Mcp-Name: ${tool}`,
];
const cli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
const args = [cli, '-c', String(CONNECTIONS), '-d', String(SECONDS), '-m', 'POST', '-b', body];
for (const h of headers) args.push('-H', h);
args.push(reference.url);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
await new Promise<void>((resolve) => child.on('exit', () => resolve()));
const cpu = process.cpuUsage(cpu0);
console.log(
  `server process: ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU over ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
await reference.close();
