// Registrations until the cap and past it, with the server's memory measured in a process of its
// own (test/server/fuzz/flood.ts). Issue #14: 5,000 open registrations of 60 KB added 308 MiB
// that was never freed. Here half the registrations carry 60 KB (refused: more than a client may
// keep), half just under the byte cap (kept until the count cap, then 503); what the server
// still holds afterwards is a few hundred small clients. bench/fuzz-reference-server.ts runs the
// same flood at 5,000 with the default caps.

import { expect, it } from 'vitest';
import { registrationFlood } from './fuzz/flood.ts';

const MiB = 2 ** 20;

it('a registration flood leaves the server holding at most its cap of clients, in bounded memory', async () => {
  const flood = await registrationFlood(400, { autoApprove: true, limits: { maxClients: 150 } });
  expect(flood.statuses).toEqual({ 201: 150, 400: 200, 503: 50 });
  expect(flood.clients).toBe(150);
  // 200 refused clients of 60 KB would hold 12 MiB; 150 kept clients of 5 KiB hold under 1.
  expect(flood.after.heapUsed - flood.before.heapUsed).toBeLessThan(8 * MiB);
  expect(flood.after.rss - flood.before.rss).toBeLessThan(64 * MiB);
}, 60_000);
