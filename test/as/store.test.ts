// The in-memory store on its own: the consume operations decide "first one wins", expired entries
// go away, and floods are bounded.

import { describe, expect, it } from 'vitest';
import {
  type CodeRecord,
  type Grant,
  MemoryStore,
  type PendingRequest,
} from '../../reference-server/store.ts';

const request = {
  clientId: 'c',
  redirectUri: 'http://127.0.0.1/cb',
  redirectUriSent: true,
  scope: 'mcp:tools',
  resource: 'http://127.0.0.1:1/mcp',
};
const code = (expiresAt: number): CodeRecord => ({ request, subject: 'alice', expiresAt });
const pending = (id: string, expiresAt: number): PendingRequest => ({ id, csrf: 'x', request, expiresAt });
const grant = (id: string, activeRefreshHash: string): Grant => ({
  id,
  clientId: 'c',
  subject: 'alice',
  scope: 'mcp:tools',
  resource: request.resource,
  revoked: false,
  activeRefreshHash,
});

describe('MemoryStore', () => {
  it('redeemCode: the first caller redeems, later callers see a replay naming the first grant', async () => {
    const store = new MemoryStore();
    await store.saveCode('h', code(Date.now() + 60_000));
    const results = await Promise.all([
      store.redeemCode('h', 'g1'),
      store.redeemCode('h', 'g2'),
      store.redeemCode('h', 'g3'),
    ]);
    expect(results.map((r) => r.kind)).toEqual(['redeemed', 'replayed', 'replayed']);
    expect(results[2]!.kind === 'replayed' && results[2]!.code.redeemedGrantId).toBe('g1');
    expect((await store.redeemCode('unknown', 'g')).kind).toBe('unknown');
  });

  it('rotateRefresh: one rotation per token; the old token is then a reuse; revoked grants refuse', async () => {
    const store = new MemoryStore();
    await store.saveGrant(grant('g', 'rt1'));
    const [a, b] = await Promise.all([store.rotateRefresh('rt1', 'rt2'), store.rotateRefresh('rt1', 'rt3')]);
    expect([a.kind, b.kind]).toEqual(['rotated', 'reused']);
    expect(await store.findGrantByRefresh('rt2')).toMatchObject({ active: true });
    expect(await store.findGrantByRefresh('rt1')).toMatchObject({ active: false });
    expect(await store.findGrantByRefresh('rt3')).toBeUndefined();
    await store.revokeGrant('g');
    expect((await store.rotateRefresh('rt2', 'rt4')).kind).toBe('revoked');
    expect((await store.rotateRefresh('nope', 'x')).kind).toBe('unknown');
  });

  it('revokeGrant also revokes the access tokens recorded under it', async () => {
    const store = new MemoryStore();
    await store.saveGrant(grant('g', 'rt'));
    await store.recordAccessToken('g', 'jti-1', Date.now() + 60_000);
    await store.recordAccessToken('other', 'jti-2', Date.now() + 60_000);
    await store.revokeGrant('g');
    expect(await store.isAccessTokenRevoked('jti-1')).toBe(true);
    expect(await store.isAccessTokenRevoked('jti-2')).toBe(false);
  });

  it('takePending answers once; expired pending requests are gone', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ now: () => now });
    await store.savePending(pending('p', now + 1000));
    await store.savePending(pending('q', now + 1000));
    const [first, second] = await Promise.all([store.takePending('p'), store.takePending('p')]);
    expect(first?.id).toBe('p');
    expect(second).toBeUndefined();
    now += 2000;
    expect(await store.getPending('q')).toBeUndefined();
  });

  it('caps pending requests, and the sweep frees room once they expire', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ now: () => now, limits: { maxPendingRequests: 3 } });
    for (const id of ['a', 'b', 'c']) expect(await store.savePending(pending(id, now + 1000))).toBe(true);
    expect(await store.savePending(pending('d', now + 1000))).toBe(false);
    now += 5000;
    expect(await store.savePending(pending('e', now + 1000))).toBe(true);
  });

  it('sweeps expired codes, but keeps redeemed ones for replay detection a while longer', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ now: () => now, replayMemoryMs: 10_000 });
    await store.saveCode('unused', code(now + 1000));
    await store.saveCode('used', code(now + 1000));
    await store.redeemCode('used', 'g');
    now += 5000;
    await store.saveCode('trigger', code(now + 1000)); // writes sweep
    expect(await store.getCode('unused')).toBeUndefined();
    expect(await store.getCode('used')).toBeDefined();
    now += 20_000;
    await store.saveCode('trigger2', code(now + 1000));
    expect(await store.getCode('used')).toBeUndefined();
  });

  it('CIMD cache entries expire and the cache is bounded', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ now: () => now, limits: { maxCimdDocuments: 2 } });
    const client = { client_id: 'u', source: 'cimd' as const, metadata: {} as never };
    await store.putCimd('a', { client, expiresAt: now + 1000 });
    await store.putCimd('b', { client, expiresAt: now + 1000 });
    await store.putCimd('c', { client, expiresAt: now + 1000 });
    expect(await store.getCimd('a')).toBeUndefined(); // evicted, oldest first
    expect(await store.getCimd('c')).toBeDefined();
    now += 2000;
    expect(await store.getCimd('c')).toBeUndefined();
  });

  it('caps clients; a lookup is a use; unused clients expire and free their room', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ now: () => now, limits: { maxClients: 2, clientIdleSeconds: 10 } });
    const client = (id: string) => ({ client_id: id, source: 'dcr' as const, metadata: {} as never });
    expect(await store.saveClient(client('a'))).toBe(true);
    now += 4000;
    expect(await store.saveClient(client('b'))).toBe(true);
    expect(await store.saveClient(client('c'))).toBe(false);
    expect(await store.secondsUntilRoom('clients')).toBe(6); // a idles out 10 s after its registration
    now += 4000;
    expect(await store.getClient('a')).toBeDefined(); // a use: a is now the most recently used
    expect(await store.secondsUntilRoom('clients')).toBe(6); // b is next
    now += 7000;
    expect(await store.getClient('b')).toBeUndefined();
    expect(await store.saveClient(client('c'))).toBe(true);
    expect((await store.sizes()).clients).toBe(2);
  });

  it('grants idle out with every refresh hash they indexed; the history per grant is bounded', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({
      now: () => now,
      limits: { maxGrants: 1, grantIdleSeconds: 10, maxRefreshHistory: 1 },
    });
    await store.saveGrant(grant('g', 'rt1'));
    expect(await store.hasRoomForGrant()).toBe(false);
    await store.rotateRefresh('rt1', 'rt2');
    await store.rotateRefresh('rt2', 'rt3');
    expect((await store.sizes()).refreshTokens).toBe(2); // rt3 active, rt2 superseded, rt1 forgotten
    expect(await store.findGrantByRefresh('rt1')).toBeUndefined();
    expect(await store.findGrantByRefresh('rt2')).toMatchObject({ active: false });
    now += 10_000;
    expect(await store.hasRoomForGrant()).toBe(true);
    expect(await store.sizes()).toMatchObject({ grants: 0, refreshTokens: 0 });
  });
});
