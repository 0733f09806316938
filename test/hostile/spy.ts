// Preloaded into the runner's process by the hostile-target tests (node --import): records every
// TCP connection attempt and every DNS query the process makes, and its peak memory, and writes
// them to $HOSTILE_SPY_OUT when the process exits. It also answers one test name,
// rebind.hostile.test, with the cloud metadata address, so the egress policy's check of resolved
// addresses is exercised without any real DNS.

import dns from 'node:dns';
import dnsPromises from 'node:dns/promises';
import { writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { Socket } from 'node:net';
import { REBIND_ADDRESS, REBIND_HOST } from './server.ts';

const out = process.env.HOSTILE_SPY_OUT;
const connects: string[] = [];
const lookups: string[] = [];

const originalConnect = Socket.prototype.connect;
Socket.prototype.connect = function connect(this: Socket, ...args: unknown[]) {
  // net.connect passes [options, callback] as one normalised array; a direct call passes options.
  const first = args[0];
  const options = (Array.isArray(first) ? first[0] : first) as
    { host?: string; port?: number; path?: string } | undefined;
  if (options && typeof options === 'object') {
    connects.push(options.path ?? `${options.host ?? 'localhost'}:${options.port ?? ''}`);
  }
  return (originalConnect as (...a: unknown[]) => Socket).apply(this, args);
} as typeof Socket.prototype.connect;

type LookupAll = (host: string, options?: unknown) => Promise<unknown>;
const originalLookup = dnsPromises.lookup as unknown as LookupAll;
(dnsPromises as unknown as { lookup: LookupAll }).lookup = async (host: string, options?: unknown) => {
  lookups.push(host);
  if (host === REBIND_HOST) {
    const answer = { address: REBIND_ADDRESS, family: 4 };
    return (options as { all?: boolean } | undefined)?.all ? [answer] : answer;
  }
  return originalLookup(host, options);
};
const originalCallbackLookup = dns.lookup;
(dns as unknown as { lookup: (...a: unknown[]) => unknown }).lookup = (...args: unknown[]) => {
  lookups.push(String(args[0]));
  return (originalCallbackLookup as unknown as (...a: unknown[]) => unknown)(...args);
};
syncBuiltinESMExports();

process.on('exit', () => {
  if (!out) return;
  writeFileSync(out, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, connects, lookups }));
});
