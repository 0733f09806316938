// A registration flood against a fresh reference server in a child process, with the server's
// memory measured before and after (issue #14: 5,000 open registrations added 308 MiB that was
// never freed; with a 256 MB heap the server died after 3,755). Half the registrations carry
// 60 KB of metadata (what the issue sent), half just under the default per-client byte cap.

import type { ReferenceServerOptions } from '../../../reference-server/server.ts';
import { type Measurement, startTarget } from './harness.ts';

export interface FloodResult {
  registrations: number;
  statuses: Record<number, number>;
  /** Clients the server holds afterwards. */
  clients: number;
  before: Measurement;
  after: Measurement;
  wallMs: number;
}

/** Client metadata of about `bytes` bytes (the `contacts` member makes up the size). */
export function metadataOfSize(bytes: number, i: number): string {
  const contact = `flood-${i}-${'x'.repeat(80)}@example.com`;
  return JSON.stringify({
    redirect_uris: ['http://127.0.0.1/cb'],
    token_endpoint_auth_method: 'none',
    client_name: `flood ${i}`,
    contacts: Array.from({ length: Math.max(1, Math.floor(bytes / (contact.length + 3))) }, () => contact),
  });
}

export async function registrationFlood(
  registrations: number,
  options: ReferenceServerOptions = { autoApprove: true },
  concurrency = 16,
): Promise<FloodResult> {
  const target = await startTarget([options]);
  try {
    const { origin } = target.servers[0]!;
    const before = await target.measure();
    const statuses: Record<number, number> = {};
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < registrations) {
          const i = next++;
          const res = await fetch(`${origin}/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: metadataOfSize(i < registrations / 2 ? 60_000 : 4_800, i),
          });
          await res.arrayBuffer();
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        }
      }),
    );
    const wallMs = performance.now() - started;
    const after = await target.measure();
    return { registrations, statuses, clients: after.sizes[0]!.clients!, before, after, wallMs };
  } finally {
    await target.close();
  }
}
