// Single use under concurrency: of 50 parallel redemptions of one code, or 50 parallel refreshes
// of one refresh token, exactly one succeeds (the store's consume operations are atomic).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getCode,
  getTokens,
  type Harness,
  redeem,
  refresh,
  register,
  startAs,
  type TestClient,
} from './helpers.ts';

const PARALLEL = 50;
let h: Harness;
let client: TestClient;
beforeAll(async () => {
  h = await startAs({ autoApprove: true });
  client = await register(h);
});
afterAll(() => h.close());

describe('concurrency', () => {
  it(`${PARALLEL} parallel redemptions of one code → exactly one 200, the rest invalid_grant`, async () => {
    const code = await getCode(h, client);
    const results = await Promise.all(Array.from({ length: PARALLEL }, () => redeem(h, client, code)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400 && r.json?.error === 'invalid_grant')).toHaveLength(
      PARALLEL - 1,
    );
  });

  it(`${PARALLEL} parallel refreshes of one refresh token → exactly one 200`, async () => {
    const tokens = await getTokens(h, client);
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, () => refresh(h, client, tokens.refresh_token)),
    );
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.status === 400 && r.json?.error === 'invalid_grant')).toHaveLength(
      PARALLEL - 1,
    );
    // The losers presented a superseded token: the AS cannot tell that from theft, so the family
    // ends, including the winner's new token (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).
    expect((await refresh(h, client, String(winners[0]!.json?.refresh_token))).json?.error).toBe(
      'invalid_grant',
    );
  });

  it('the same race can fail: with as-code-reuse-allowed more than one redemption succeeds', async () => {
    const broken = await startAs({ autoApprove: true, faults: ['as-code-reuse-allowed'] });
    try {
      const c = await register(broken);
      const code = await getCode(broken, c);
      const results = await Promise.all(Array.from({ length: 10 }, () => redeem(broken, c, code)));
      expect(results.filter((r) => r.status === 200).length).toBeGreaterThan(1);
    } finally {
      await broken.close();
    }
  });

  it(`${PARALLEL} parallel refreshes that are rejected (wider scope) burn nothing`, async () => {
    const tokens = await getTokens(h, client);
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, () =>
        refresh(h, client, tokens.refresh_token, { scope: 'mcp:tools mcp:write' }),
      ),
    );
    expect(results.every((r) => r.json?.error === 'invalid_scope')).toBe(true);
    expect((await refresh(h, client, tokens.refresh_token)).status).toBe(200);
  });
});
