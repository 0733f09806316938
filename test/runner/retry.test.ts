// A 429 is waited out within the request's bound (runner/retry.ts), never handed to a check.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpRecorder, HttpTransportError, makeHeaders, type HttpResponse } from '../../runner/http.ts';
import { MAX_RATE_LIMIT_RETRIES, retryAfterMs, retryOnRateLimit } from '../../runner/retry.ts';

function response(status: number, headers: [string, string][] = []): HttpResponse {
  return {
    url: 'http://127.0.0.1:1/token',
    status,
    headers: makeHeaders(headers),
    text: '',
    json: () => undefined,
    exchange: { id: 'x1', startedAt: '', durationMs: 0, request: { method: 'POST', url: '', headers: [] } },
  };
}

/** A fake clock: sleeping advances it. */
function clock() {
  let t = 1_000_000;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    slept,
  };
}

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP-dates, and nothing else', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(' 0 ')).toBe(0);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000);
    expect(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

describe('retryOnRateLimit', () => {
  it('waits as Retry-After asks and sends again, until the answer is not a 429', async () => {
    const c = clock();
    const answers = [response(429, [['retry-after', '1']]), response(429, []), response(200)];
    const attempts: number[] = [];
    const r = await retryOnRateLimit(
      async (_timeout, attempt) => {
        attempts.push(attempt);
        return answers.shift()!;
      },
      { budgetMs: 10_000, ...c },
    );
    expect(r.status).toBe(200);
    expect(attempts).toEqual([0, 1, 2]);
    expect(c.slept).toEqual([1000, 1000]); // the second 429 named no wait: one second
  });

  it('gives each attempt only what is left of the budget', async () => {
    const c = clock();
    const timeouts: number[] = [];
    const answers = [response(429, [['retry-after', '2']]), response(200)];
    await retryOnRateLimit(
      async (timeout) => {
        timeouts.push(timeout);
        return answers.shift()!;
      },
      { budgetMs: 5_000, ...c },
    );
    expect(timeouts).toEqual([5000, 3000]);
  });

  it('ends with a rate-limited transport error, never the 429, when the wait does not fit', async () => {
    const c = clock();
    const run = retryOnRateLimit(async () => response(429, [['retry-after', '30']]), {
      budgetMs: 5_000,
      ...c,
    });
    await expect(run).rejects.toBeInstanceOf(HttpTransportError);
    await expect(run).rejects.toMatchObject({ kind: 'rate-limited' });
    await expect(run).rejects.toThrow(
      /answered 429 Too Many Requests: the target rate-limits the harness \(retry-after: 30\)/,
    );
    expect(c.slept).toEqual([]);
  });

  it('gives up after a bounded number of attempts', async () => {
    const c = clock();
    let sent = 0;
    const run = retryOnRateLimit(
      async () => {
        sent++;
        return response(429, [['retry-after', '0']]);
      },
      { budgetMs: 60_000, ...c },
    );
    await expect(run).rejects.toThrow(/still so after/);
    expect(sent).toBe(MAX_RATE_LIMIT_RETRIES + 1);
  });
});

describe('HttpRecorder', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('waits out a 429 and records every attempt as evidence', async () => {
    let calls = 0;
    server = createServer((_req, res) => {
      calls++;
      if (calls === 1) res.writeHead(429, { 'Retry-After': '1' }).end();
      else res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    const http = new HttpRecorder({ allowedOrigins: [url], timeoutMs: 5_000 });
    try {
      const r = await http.request(url, { label: 'token request' });
      expect(r.status).toBe(200);
      expect(http.exchanges.map((e) => [e.response?.status, e.label])).toEqual([
        [429, 'token request'],
        [200, 'token request (again after 429, #1)'],
      ]);
    } finally {
      await http.close();
    }
  });
});
