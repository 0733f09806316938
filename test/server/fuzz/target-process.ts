// The reference server in a process of its own, for the fuzzer and the memory tests: a crash is
// then an exit the parent sees (not the end of the test runner), and memory is measured on the
// server alone. Started by target.ts with `node --expose-gc --import tsx`; talks over IPC:
//
//   → { type: 'ready', servers: [{ url, issuer, signingKey }] }     once every server listens
//   ← { type: 'measure', id }  → { type: 'measured', id, heapUsed, rss, sizes: [...] }
//   ← { type: 'close' }        → closes the servers and exits 0
//
// argv[2] is a JSON array of startReferenceServer options, one server each.

import { type ReferenceServerOptions, startReferenceServer } from '../../../reference-server/server.ts';

const send = (message: unknown) => process.send?.(message);
const optionsList = JSON.parse(process.argv[2] ?? '[{}]') as ReferenceServerOptions[];
const servers = await Promise.all(optionsList.map((options) => startReferenceServer(options)));
send({
  type: 'ready',
  servers: servers.map((s) => ({ url: s.url, issuer: s.issuer, signingKey: s.signingKey })),
});

process.on('message', async (message: { type: string; id?: number }) => {
  if (message.type === 'measure') {
    // Three full collections, so what is measured is what the server still holds.
    for (let i = 0; i < 3; i++) globalThis.gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    const sizes = await Promise.all(servers.map((s) => s.sizes()));
    send({ type: 'measured', id: message.id, heapUsed, rss, sizes });
  } else if (message.type === 'close') {
    await Promise.all(servers.map((s) => s.close()));
    process.exit(0);
  }
});
// The parent went away without saying close: do not outlive it.
process.on('disconnect', () => process.exit(0));
