// The engine: status derivation, selection, time bounds, fixtures and evidence linking, against
// msw-mocked targets served on loopback.

import { delay, HttpResponse, http } from 'msw';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Check,
  type CheckContext,
  defineCheck,
  FixtureUnavailable,
  type Level,
} from '../../runner/check.ts';
import {
  deriveStatus,
  type EngineOptions,
  matchesPrefix,
  runChecks,
  selectChecks,
} from '../../runner/engine.ts';
import type { FixtureSource } from '../../runner/fixtures.ts';
import { HttpRecorder, HttpTransportError } from '../../runner/http.ts';
import { type MswServer, startMswServer } from '../helpers/msw-server.ts';

function check(id: string, run: (t: CheckContext) => Promise<void>, extra: Partial<Check> = {}): Check {
  return defineCheck({
    id,
    title: `test check ${id}`,
    level: 'MUST',
    refs: ['test §1'],
    revisions: ['2025-06-18', '2025-11-25', '2026-07-28'],
    needs: [],
    faults: [],
    requirement: 'a requirement',
    remediation: 'a remedy',
    control: 'None: a test check.',
    run,
    ...extra,
  });
}

/** A fixture source whose fixtures are plain functions; counts how often each is created. */
function fakeFixtures(
  factories: Partial<Record<string, () => Promise<unknown>>>,
): FixtureSource & { created: Record<string, number> } {
  const promises = new Map<string, Promise<unknown>>();
  const created: Record<string, number> = {};
  return {
    created,
    get(name) {
      let p = promises.get(name);
      if (!p) {
        created[name] = (created[name] ?? 0) + 1;
        const factory = factories[name];
        p = factory ? factory() : Promise.reject(new FixtureUnavailable('skip', `no ${name} in this test`));
        p.catch(() => undefined);
        promises.set(name, p);
      }
      return p as never;
    },
    exchangesOf: () => [],
    freshGrant: () => Promise.reject(new Error('no grants in this test')),
    authorizationFlows: 0,
  };
}

let server: MswServer;
let recorder: HttpRecorder;

beforeAll(async () => {
  server = await startMswServer([
    http.get('*/ok', () => HttpResponse.json({ ok: true })),
    http.get('*/hang', async () => {
      await delay('infinite');
      return HttpResponse.text('never');
    }),
    http.get('*/huge', () => {
      const chunk = new Uint8Array(64 * 1024).fill(97);
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          // "Gigabytes": far more than the cap; the client must stop reading long before the end.
          if (sent++ > 16 * 1024) controller.close();
          else controller.enqueue(chunk);
        },
      });
      return new HttpResponse(stream, { headers: { 'content-type': 'application/json' } });
    }),
  ]);
});

afterAll(async () => {
  await recorder?.close();
  await server.close();
});

function options(extra: Partial<EngineOptions> = {}): EngineOptions {
  recorder ??= new HttpRecorder({ allowedOrigins: [server.origin], timeoutMs: 500, maxBodyBytes: 64 * 1024 });
  return {
    target: `${server.origin}/mcp`,
    revision: '2026-07-28',
    strict: false,
    embedded: false,
    http: recorder,
    fixtures: fakeFixtures({}),
    requestTimeoutMs: 500,
    checkTimeoutMs: 2_000,
    fixtureTimeoutMs: 2_000,
    runTimeoutMs: 10_000,
    concurrency: 4,
    ...extra,
  };
}

describe('deriveStatus', () => {
  const violated = [{ kind: 'violated' as const, message: 'broken' }];
  const cases: [Level, boolean, string][] = [
    ['MUST', false, 'fail'],
    ['MUST', true, 'fail'],
    ['SHOULD', false, 'warn'],
    ['SHOULD', true, 'fail'],
    ['MAY', false, 'info'],
    ['MAY', true, 'info'],
  ];
  it.each(cases)('a violated %s (strict=%s) is %s', (level, strict, status) => {
    expect(deriveStatus(level, violated, strict).status).toBe(status);
  });

  it('conforming is pass at every level', () => {
    for (const level of ['MUST', 'SHOULD', 'MAY'] as const) {
      expect(deriveStatus(level, [{ kind: 'conforms', message: 'fine' }], false).status).toBe('pass');
    }
  });

  it('a violation outweighs a conformance', () => {
    const r = deriveStatus('MUST', [{ kind: 'conforms', message: 'a ok' }, ...violated], false);
    expect(r).toMatchObject({ status: 'fail', message: 'broken' });
  });

  it('a secondary property judged at a lower level warns; the strongest violation decides', () => {
    const should = { kind: 'violated' as const, message: 'no error code', level: 'SHOULD' as const };
    expect(deriveStatus('MUST', [should], false).status).toBe('warn');
    expect(deriveStatus('MUST', [should], true).status).toBe('fail');
    expect(deriveStatus('MUST', [should, ...violated], false).status).toBe('fail');
    // never above the check's own level
    expect(deriveStatus('SHOULD', [{ ...should, level: 'MUST' as const }], false).status).toBe('warn');
  });

  it('skip carries the reason and how to provide the prerequisite', () => {
    const r = deriveStatus(
      'MUST',
      [{ kind: 'prerequisiteMissing', message: 'no key', howToProvide: 'pass --mint-key' }],
      false,
    );
    expect(r).toEqual({ status: 'skip', message: 'no key', howToProvide: 'pass --mint-key' });
  });

  it('observations alone are info; nothing at all is an error, never a pass', () => {
    expect(deriveStatus('MUST', [{ kind: 'observe', message: 'saw x' }], false).status).toBe('info');
    const none = deriveStatus('MUST', [], false);
    expect(none.status).toBe('error');
    expect(none.message).toMatch(/without reporting/);
  });
});

describe('selection', () => {
  const checks = ['RS-PRM-01', 'RS-PRM-02', 'RS-401-01', 'AS-PKCE-01', 'AS-PKCE-010'].map((id) =>
    check(id, async () => undefined),
  );
  const ids = (only: string[], skip: string[] = []) =>
    selectChecks(checks, { revision: '2026-07-28', only, skip }).selected.map((c) => c.id);

  it('matches prefixes only at a "-" boundary', () => {
    expect(matchesPrefix('RS-PRM-01', 'RS')).toBe(true);
    expect(matchesPrefix('RS-PRM-01', 'RS-PRM')).toBe(true);
    expect(matchesPrefix('RS-PRM-01', 'RS-P')).toBe(false);
    expect(matchesPrefix('AS-PKCE-010', 'AS-PKCE-01')).toBe(false);
    expect(matchesPrefix('rs-prm-01'.toUpperCase(), 'rs-prm')).toBe(true);
  });

  it('applies --only then --skip', () => {
    expect(ids([])).toHaveLength(5);
    expect(ids(['RS'])).toEqual(['RS-PRM-01', 'RS-PRM-02', 'RS-401-01']);
    expect(ids(['RS'], ['RS-PRM-02'])).toEqual(['RS-PRM-01', 'RS-401-01']);
    expect(ids(['AS-PKCE-01'])).toEqual(['AS-PKCE-01']);
    expect(ids([], ['AS'])).toEqual(['RS-PRM-01', 'RS-PRM-02', 'RS-401-01']);
  });

  it('reports prefixes that match no check', () => {
    expect(selectChecks(checks, { revision: '2026-07-28', only: ['RS-P', 'RS'] }).unmatched).toEqual([
      'RS-P',
    ]);
  });

  it('leaves out checks of other revisions', () => {
    const old = check('RS-SESS-01', async () => undefined, { revisions: ['2025-06-18'] });
    expect(selectChecks([old], { revision: '2026-07-28' }).selected).toEqual([]);
    expect(selectChecks([old], { revision: '2025-06-18' }).selected).toEqual([old]);
  });
});

describe('runChecks', () => {
  it('turns a throwing check into error with the reason, and keeps running the others', async () => {
    const results = await runChecks(
      [
        check('T-THROW-01', async () => {
          throw new TypeError('cannot read x of undefined');
        }),
        check('T-OK-01', async (t) => t.conforms('fine')),
      ],
      options(),
    );
    expect(results[0]).toMatchObject({
      status: 'error',
      message: 'harness error: cannot read x of undefined',
    });
    expect(results[1]).toMatchObject({ status: 'pass', message: 'fine' });
  });

  it("carries the check's quotes that speak for the run's revision, and its derived or conflict reason", async () => {
    const sentence = (source: string, keyword: 'MUST' | 'SHOULD') => ({
      source,
      section: '3',
      text: `Servers ${keyword} do it.`,
      keyword,
      binds: 'resource-server' as const,
    });
    const quotes = [
      sentence('RFC 6750', 'MUST'),
      sentence('MCP 2025-06-18', 'MUST'),
      sentence('MCP 2026-07-28', 'SHOULD'),
    ];
    const [quoted, derived] = await runChecks(
      [
        check('T-QUOTE-01', async (t) => t.violated('no'), {
          level: 'SHOULD',
          quotes,
          conflict: 'they disagree',
        }),
        check('T-DERIVED-01', async (t) => t.conforms('yes'), {
          level: 'SHOULD',
          derived: 'no sentence says so',
        }),
      ],
      options(),
    );
    expect(quoted).toMatchObject({
      status: 'warn',
      level: 'SHOULD',
      quotes: [quotes[0], quotes[2]],
      conflict: 'they disagree',
    });
    expect(quoted).not.toHaveProperty('derived');
    expect(derived).toMatchObject({ derived: 'no sentence says so' });
    expect(derived).not.toHaveProperty('quotes');
  });

  it('links the exchanges a check made to its result', async () => {
    const [r] = await runChecks(
      [
        check('T-HTTP-01', async (t) => {
          const res = await t.http.request(`${server.origin}/ok`);
          if (res.status === 200) t.conforms('answered');
        }),
      ],
      options(),
    );
    expect(r!.status).toBe('pass');
    expect(r!.exchanges).toHaveLength(1);
    expect(recorder.exchanges.find((e) => e.id === r!.exchanges[0])?.request.url).toBe(`${server.origin}/ok`);
  });

  it('ends a check whose request hangs as error within the request bound', async () => {
    const started = Date.now();
    const [r] = await runChecks(
      [
        check('T-HANG-01', async (t) => {
          await t.http.request(`${server.origin}/hang`, { timeoutMs: 200 });
          t.conforms('unreachable');
        }),
      ],
      options(),
    );
    expect(r!.status).toBe('error');
    expect(r!.message).toMatch(/within 200 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('ends a check that never settles as error within the check bound, and stops its requests', async () => {
    let sentAfterTimeout: unknown;
    const started = Date.now();
    const [r] = await runChecks(
      [
        check('T-STUCK-01', async (t) => {
          await new Promise((resolve) => setTimeout(resolve, 400));
          expect(t.signal.aborted).toBe(true);
          try {
            await t.http.request(`${server.origin}/ok`);
          } catch (err) {
            sentAfterTimeout = err;
          }
        }),
      ],
      options({ checkTimeoutMs: 150 }),
    );
    expect(r!.status).toBe('error');
    expect(r!.message).toMatch(/time bound/);
    expect(Date.now() - started).toBeLessThan(400);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(String(sentAfterTimeout)).toMatch(/not sent/);
  });

  it('ends a check whose target sends a huge body as error', async () => {
    const [r] = await runChecks(
      [
        check('T-HUGE-01', async (t) => {
          await t.http.request(`${server.origin}/huge`);
          t.conforms('unreachable');
        }),
      ],
      options(),
    );
    expect(r!.status).toBe('error');
    expect(r!.message).toMatch(/exceeds the 65536-byte cap/);
  });

  it('creates a fixture once, and gives each dependent check its skip reason', async () => {
    const fixtures = fakeFixtures({
      minter: () => Promise.reject(new FixtureUnavailable('skip', 'no key', 'pass --mint-key FILE')),
      prm: () => Promise.resolve({ resource: 'x' }),
    });
    const needsMinter = (id: string) => check(id, async (t) => t.conforms('ran'), { needs: ['minter'] });
    const results = await runChecks(
      [
        needsMinter('T-MINT-01'),
        needsMinter('T-MINT-02'),
        check(
          'T-PRM-01',
          async (t) => {
            const prm = (await t.fixture('prm')) as unknown as { resource: string };
            t.conforms(`resource ${prm.resource}`);
          },
          { needs: ['prm'] },
        ),
      ],
      options({ fixtures, concurrency: 3 }),
    );
    expect(fixtures.created).toEqual({ minter: 1, prm: 1 });
    expect(results.map((r) => r.status)).toEqual(['skip', 'skip', 'pass']);
    expect(results[0]).toMatchObject({ message: 'no key', howToProvide: 'pass --mint-key FILE' });
  });

  it('turns a fixture that throws into error for its dependents', async () => {
    const fixtures = fakeFixtures({ token: () => Promise.reject(new Error('registration refused')) });
    const [r] = await runChecks(
      [check('T-TOK-01', async (t) => t.conforms('ran'), { needs: ['token'] })],
      options({ fixtures }),
    );
    expect(r).toMatchObject({ status: 'error', message: 'harness error: registration refused' });
  });

  it('optionalFixture lets a check fall back instead of skipping', async () => {
    const [r] = await runChecks(
      [
        check('T-OPT-01', async (t) => {
          const minter = await t.optionalFixture('minter');
          if (minter === undefined) t.conforms('fell back to real tokens');
        }),
      ],
      options(),
    );
    expect(r).toMatchObject({ status: 'pass', notes: ['without minter: no minter in this test'] });
  });

  it('skips a check that cannot run against the embedded server, with the reason', async () => {
    const [r] = await runChecks(
      [
        check('T-EMB-01', async (t) => t.conforms('ran'), {
          expectedSkipInEmbedded: 'needs a second resource',
        }),
      ],
      options({ embedded: true }),
    );
    expect(r).toMatchObject({ status: 'skip', message: expect.stringMatching(/needs a second resource/) });
  });

  it('bounds the whole run: checks not finished in time end as error', async () => {
    // Each slow check honours t.signal, so no timer outlives the test.
    const slow = (id: string) =>
      check(
        id,
        (t) =>
          new Promise((resolve) => {
            const timer = setTimeout(resolve, 5_000);
            t.signal.addEventListener('abort', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      );
    const started = Date.now();
    const results = await runChecks(
      [slow('T-SLOW-01'), slow('T-SLOW-02'), slow('T-SLOW-03')],
      options({ runTimeoutMs: 200, concurrency: 1 }),
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(results.map((r) => r.status)).toEqual(['error', 'error', 'error']);
    expect(results[2]!.message).toMatch(/run's time bound/);
  });

  it('reports data and notes with the result', async () => {
    const [r] = await runChecks(
      [
        check(
          'T-DATA-01',
          async (t) => {
            t.data('classification', 'EXACT');
            t.note('compared code points');
            t.violated('resource differs', { exchanges: ['x999'] });
          },
          { level: 'SHOULD' },
        ),
      ],
      options({ strict: true }),
    );
    expect(r).toMatchObject({
      status: 'fail',
      data: { classification: 'EXACT' },
      notes: ['compared code points'],
    });
    expect(r!.exchanges).toContain('x999');
  });
});

describe('controls, isolation and shared probes (issue #12 §1-§2, issue #15 §4)', () => {
  /** A fixture source with isolation and per-check clients, counting what it was asked for. */
  function isolatingFixtures(mode: 'per-check' | 'serialized') {
    let clients = 0;
    let tokens = 0;
    let released = 0;
    const base = fakeFixtures({
      client: async () => ({ clientId: 'shared', authMethod: 'none', redirectUris: [] }),
      token: async () => ({ accessToken: `token-${++tokens}`, tokenType: 'bearer', raw: {} }),
    });
    const source: FixtureSource & { renewed: string[]; released: () => number } = {
      ...base,
      renewed: [],
      released: () => released,
      isolation: async () => mode,
      leaseClient: async () => ({
        client:
          mode === 'serialized'
            ? { clientId: 'shared', authMethod: 'none', redirectUris: [] }
            : { clientId: `own-${++clients}`, authMethod: 'none', redirectUris: [] },
        release: () => void released++,
      }),
      renew(name) {
        source.renewed.push(name);
        const fresh = fakeFixtures({
          token: async () => ({ accessToken: `token-${++tokens}`, tokenType: 'bearer', raw: {} }),
        });
        source.get = ((n: string) => (n === name ? fresh.get(n as never) : base.get(n as never))) as never;
      },
    };
    return source;
  }

  it('a failed control outweighs a pass: the check ends skip with the reason, never pass', async () => {
    const [r] = await runChecks(
      [
        check('T-CTRL-01', async (t) => {
          t.conforms('probe A refused, control ok');
          t.inconclusive('control failed: the same request without B was refused too');
        }),
      ],
      options(),
    );
    expect(r).toMatchObject({
      status: 'skip',
      message: 'control failed: the same request without B was refused too',
    });
  });

  it('each check that declares own-client gets a client of its own', async () => {
    const seen: string[] = [];
    const own = async (t: CheckContext) => {
      seen.push((await t.fixture('own-client')).clientId);
      t.conforms('ok');
    };
    const fixtures = isolatingFixtures('per-check');
    const results = await runChecks(
      [check('T-OWN-01', own, { needs: ['own-client'] }), check('T-OWN-02', own, { needs: ['own-client'] })],
      options({ fixtures }),
    );
    expect(results.map((r) => r.status)).toEqual(['pass', 'pass']);
    expect(new Set(seen).size).toBe(2);
    // Every lease went back to the pool when its check ended.
    expect(fixtures.released()).toBe(2);
  });

  it('a check using own-client without declaring it is a harness error, not a silent shared client', async () => {
    const [r] = await runChecks(
      [check('T-OWN-03', async (t) => void (await t.fixture('own-client')))],
      options({ fixtures: isolatingFixtures('per-check') }),
    );
    expect(r).toMatchObject({ status: 'error' });
    expect(r!.message).toMatch(/without declaring it in needs/);
  });

  it('with one fixed client, the checks that use it run one at a time, after the others, and say so', async () => {
    let running = 0;
    let most = 0;
    const order: string[] = [];
    const slow = (id: string) => async (t: CheckContext) => {
      running++;
      most = Math.max(most, running);
      order.push(id);
      await new Promise((resolve) => setTimeout(resolve, 30));
      running--;
      t.conforms('ok');
    };
    const results = await runChecks(
      [
        check('T-SER-01', slow('T-SER-01'), { needs: ['own-client'] }),
        check('T-SER-02', slow('T-SER-02'), { needs: ['client'] }),
        check('T-SER-03', slow('T-SER-03'), { needs: ['own-client'] }),
        check('T-FREE-01', slow('T-FREE-01')),
      ],
      options({ fixtures: isolatingFixtures('serialized') }),
    );
    expect(order[0]).toBe('T-FREE-01');
    expect(results.map((r) => r.id)).toEqual(['T-SER-01', 'T-SER-02', 'T-SER-03', 'T-FREE-01']);
    expect(results[0]!.notes.join(' ')).toMatch(/^serialized:/);
    expect(results[3]!.notes).toEqual([]);
    // The free check ran alone first; the serialized ones never overlapped.
    expect(most).toBe(1);
  });

  it('a check whose control failed on a shared fixture is re-run alone with it renewed, and says so', async () => {
    const fixtures = isolatingFixtures('per-check');
    const [r] = await runChecks(
      [
        check(
          'T-RERUN-01',
          async (t) => {
            const token = await t.fixture('token');
            if (token.accessToken === 'token-1')
              t.inconclusive('control failed: the shared token was refused', { suspect: 'token' });
            else t.conforms(`judged with ${token.accessToken}`);
          },
          { needs: ['token'] },
        ),
      ],
      options({ fixtures }),
    );
    expect(fixtures.renewed).toEqual(['token']);
    expect(r).toMatchObject({ status: 'pass', message: 'judged with token-2' });
    expect(r!.notes[0]).toMatch(/^re-run alone: the first run could not conclude \(control failed/);
  });

  it('a shared probe is made once per run and its exchanges are evidence of every check that reads it', async () => {
    let made = 0;
    const read = async (t: CheckContext) => {
      const status = await t.shared('one GET', async (probe) => {
        made++;
        return (await probe.http.request(`${server.origin}/ok`)).status;
      });
      if (status === 200) t.conforms('read');
    };
    const results = await runChecks([check('T-SHARED-01', read), check('T-SHARED-02', read)], options());
    expect(made).toBe(1);
    expect(results.map((r) => r.status)).toEqual(['pass', 'pass']);
    expect(results[0]!.exchanges).toEqual(results[1]!.exchanges);
    expect(results[0]!.exchanges).toHaveLength(1);
  });
});

describe('rate limits (issue #12 §6)', () => {
  it('a 429 the client could not wait out makes the check conclude nothing: skip, never fail or error', async () => {
    const [r] = await runChecks(
      [
        check('T-429-01', async () => {
          throw new HttpTransportError(
            'rate-limited',
            'answered 429 Too Many Requests (retry-after: 3600)',
            'x1',
          );
        }),
      ],
      options(),
    );
    expect(r).toMatchObject({ status: 'skip' });
    expect(r!.message).toMatch(/429/);
    expect(r!.howToProvide).toMatch(/rate limit/);
  });
});
