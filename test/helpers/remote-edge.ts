// The edge of a remote test host (test/helpers/remote-host.ts): runs INSIDE the host's network
// namespace and stands where a deployed server's load balancer would. It accepts TCP on the
// namespace's address, holds every chunk `--delay` ms in each direction (a network with latency;
// the kernel here has no netem), terminates TLS with the test CA's certificate, and forwards the
// plain bytes to the target on the namespace's own loopback.
//
//   client ──TCP──▶ delay (ADDR:PORT) ──▶ TLS terminator (127.0.0.1:ephemeral) ──▶ target (127.0.0.1:UPSTREAM)
//
// The delay sits before TLS, so handshakes pay it too (two round trips for TLS 1.3 plus HTTP),
// as they would over a real link. Usage (arguments only, no environment):
//
//   node --import tsx test/helpers/remote-edge.ts --listen ADDR:PORT --upstream PORT \
//     --cert FILE --key FILE --delay MS
//
// It prints "ready" on stdout once it listens, and exits on SIGTERM.

import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    listen: { type: 'string' },
    upstream: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    delay: { type: 'string' },
  },
});
const [listenHost, listenPort] = splitHostPort(required(values.listen, '--listen'));
const upstreamPort = Number(required(values.upstream, '--upstream'));
const delayMs = Number(values.delay ?? '25');

/**
 * Copies `from` to `to`, each chunk (and the end, and a reset) `delayMs` later. Timers of equal
 * duration fire in the order they were set, so the byte order is kept.
 */
function delayedPipe(from: Socket, to: Socket): void {
  from.on('data', (chunk) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('error', () => setTimeout(() => to.destroy(), delayMs));
  from.on('close', (hadError) => {
    if (hadError) setTimeout(() => to.destroy(), delayMs);
  });
}

/** Copies both ways at once, without delay; either side's reset ends both. */
function plainPipe(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
}

const tls = createTlsServer(
  {
    cert: readFileSync(required(values.cert, '--cert')),
    key: readFileSync(required(values.key, '--key')),
    allowHalfOpen: true,
  },
  (secure) => plainPipe(secure, connect({ host: '127.0.0.1', port: upstreamPort, allowHalfOpen: true })),
);
tls.on('tlsClientError', () => undefined); // a client that gives up mid-handshake is not our error

const edge: Server = createServer({ allowHalfOpen: true }, (client) => {
  const inner = connect({
    host: '127.0.0.1',
    port: (tls.address() as { port: number }).port,
    allowHalfOpen: true,
  });
  delayedPipe(client, inner);
  delayedPipe(inner, client);
});

tls.listen(0, '127.0.0.1', () => {
  edge.listen(listenPort, listenHost, () => process.stdout.write('ready\n'));
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    edge.close();
    tls.close();
    process.exit(0);
  });
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined) throw new Error(`remote-edge: ${flag} is required`);
  return value;
}

function splitHostPort(text: string): [string, number] {
  const colon = text.lastIndexOf(':');
  return [text.slice(0, colon), Number(text.slice(colon + 1))];
}
