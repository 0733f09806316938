// AS authorization endpoint, redirect URIs, PKCE and iss (suites/as-authorize.ts, as-pkce.ts,
// as-iss.ts, as-redirect.ts) through the engine, in process, against the embedded reference
// server: clean → every check passes (or the info/skip it declares); each named fault → the checks
// that name it fail (MUST) or warn (SHOULD) with a message naming the defect. One server per
// fault, shared by all the checks that name it.

import { faultParts } from '../../reference-server/faults.ts';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CHROMIUM_PATH } from '../../runner/login/browser.ts';
import { FormScriptSchema } from '../../runner/login/shared.ts';
import { loadRunConfig } from '../../cli/config.ts';
import type { Check } from '../../runner/check.ts';
import { checks as authorizeChecks } from '../../suites/as-authorize.ts';
import { checks as issChecks } from '../../suites/as-iss.ts';
import { checks as pkceChecks } from '../../suites/as-pkce.ts';
import { checks as redirectChecks } from '../../suites/as-redirect.ts';
import { runAgainstEmbedded, summarize } from '../helpers/run-checks.ts';

const CHECKS: readonly Check[] = [...authorizeChecks, ...pkceChecks, ...issChecks, ...redirectChecks];
const byId = (id: string) => CHECKS.find((c) => c.id === id)!;

/** Clean statuses other than pass, and why. */
const CLEAN_EXCEPTIONS: Record<string, string> = {
  'AS-AUTHZ-09': 'info', // MAY: records what the AS does without resource
  'AS-AUTHZ-10': 'skip', // auto-approve: run below against a server with the consent page on
  'AS-AUTHZ-11': 'skip', // auto-approve posts no credentials: run below with the consent page and a form login
  'AS-PKCE-07': 'skip', // the reference server requires PKCE, so no downgrade can arise
  'AS-REDIR-03': 'info', // MAY: localhost port flexibility recorded
};

/** What each fault's message must mention (the right reason to be red). */
const FAULT_MESSAGE: Record<string, RegExp> = {
  'as-authorize-error-description-unsafe': /error_description carries characters outside/,
  'as-pkce-optional+as-pkce-verifier-ignored': /code issued without challenge was accepted/,
  'as-authorize-get-refused': /405/,
  'as-authorize-cors': /Access-Control-Allow-Origin: \*/,
  'as-response-type-unchecked': /code was issued|answered with a code/,
  'as-state-dropped': /no state/,
  'as-authorize-duplicates-accepted': /twice: a code was issued/,
  'as-authorize-unknown-param-rejected': /foo=bar was refused/,
  'as-resource-unchecked': /was accepted: a code was issued/,
  'as-pkce-optional': /no code_challenge: a code was issued/,
  'as-pkce-unknown-method-accepted': /S512: a code was issued/,
  'as-pkce-plain-accepted': /plain.*(does not advertise plain|accepted)/,
  'as-pkce-challenge-syntax-unchecked': /42-character challenge: a code was issued/,
  'as-pkce-verifier-ignored': /was accepted: the answer carries an access token/,
  'as-pkce-verifier-optional': /no code_verifier for an S256 code was accepted/,
  'as-pkce-challenge-as-verifier': /code_challenge sent as code_verifier was accepted/,
  'as-iss-missing': /carries no iss/,
  'as-iss-missing-on-error': /error response carries no iss/,
  'as-iss-mismatch': /iss is ".*\/", but the issuer is/,
  'as-metadata-no-iss-flag': /does not say authorization_response_iss_parameter_supported/,
  'as-redirect-uri-prefix-match': /redirected to it|attacker's code/,
  'as-loopback-port-strict': /another port was refused/,
  'as-dcr-http-redirect-accepted': /registered a client with http:\/\/app\.example/,
  'as-unknown-client-redirects': /unknown client_id: redirected/,
  'as-redirect-uri-default-multiple': /picked a redirect URI itself/,
  'as-redirect-query-dropped': /registered query was not kept/,
  'as-code-long-lived': /still redeemed 2\.\d s after issue: it outlives the 2\.5 s you accept/,
};

/** Faults whose checks are shown only with the consent page on (not auto-approve, not embedded). */
const CONSENT_FAULTS = new Set(['as-error-redirect-before-login', 'as-consent-307']);

describe('AS authorization checks on the clean reference server', () => {
  it('every check passes, except the declared info/skip', async () => {
    const results = await runAgainstEmbedded(CHECKS);
    expect(results).toHaveLength(CHECKS.length);
    for (const r of results) {
      expect(r.status, summarize([r])).toBe(CLEAN_EXCEPTIONS[r.id] ?? 'pass');
    }
  });

  it('2025-06-18: the checks of that revision pass (AS-ISS-01 is 2026-07-28 only)', async () => {
    const results = await runAgainstEmbedded(CHECKS, { revision: '2025-06-18' });
    expect(results.map((r) => r.id)).not.toContain('AS-ISS-01');
    for (const r of results) expect(r.status, summarize([r])).toBe(CLEAN_EXCEPTIONS[r.id] ?? 'pass');
  });

  it('AS-AUTHZ-10 passes with the consent page on, and fails when errors are redirected before sign-in', async () => {
    const check = [byId('AS-AUTHZ-10')];
    const [clean] = await runAgainstEmbedded(check, { autoApprove: false, embedded: false });
    expect(clean!.status, summarize([clean!])).toBe('pass');
    const [faulty] = await runAgainstEmbedded(check, {
      autoApprove: false,
      embedded: false,
      faults: ['as-error-redirect-before-login'],
    });
    expect(faulty!.status, summarize([faulty!])).toBe('fail');
    expect(faulty!.message).toMatch(/redirected at once, before any sign-in/);
  });

  it('AS-AUTHZ-11 passes through the consent page with a form login, and fails when its POST is answered 307', async () => {
    const loginScript = FormScriptSchema.parse(
      JSON.parse(
        readFileSync(new URL('../../fixtures/login/reference-server.json', import.meta.url), 'utf8'),
      ),
    );
    const check = [byId('AS-AUTHZ-11')];
    const [clean] = await runAgainstEmbedded(check, { autoApprove: false, embedded: false, loginScript });
    expect(clean!.status, summarize([clean!])).toBe('pass');
    expect(clean!.message).toMatch(/POST\(s\) were answered 303/);
    const [faulty] = await runAgainstEmbedded(check, {
      autoApprove: false,
      embedded: false,
      loginScript,
      faults: ['as-consent-307'],
    });
    expect(faulty!.status, summarize([faulty!])).toBe('fail');
    expect(faulty!.message).toMatch(/answered 307/);
    // With the auto driver there is no POST to judge: not applicable, never a pass.
    const [auto] = await runAgainstEmbedded(check, { embedded: false });
    expect(auto!.status, summarize([auto!])).toBe('skip');
  });

  it.skipIf(!existsSync(DEFAULT_CHROMIUM_PATH))(
    'AS-AUTHZ-11 judges the POSTs of a browser login too (recorded from Chromium), and fails on a 307',
    async () => {
      const loginScript = FormScriptSchema.parse(
        JSON.parse(
          readFileSync(new URL('../../fixtures/login/reference-server.json', import.meta.url), 'utf8'),
        ),
      );
      const options = { autoApprove: false, embedded: false, loginScript, loginDriver: 'browser' as const };
      const check = [byId('AS-AUTHZ-11')];
      const [clean] = await runAgainstEmbedded(check, options);
      expect(clean!.status, summarize([clean!])).toBe('pass');
      expect(clean!.message).toMatch(/POST\(s\) were answered 303/);
      const [faulty] = await runAgainstEmbedded(check, { ...options, faults: ['as-consent-307'] });
      expect(faulty!.status, summarize([faulty!])).toBe('fail');
    },
    60_000,
  );

  it('AS-PKCE-07 fails when the AS both lets PKCE be omitted and ignores the verifier (a two-fault downgrade)', async () => {
    const [r] = await runAgainstEmbedded([byId('AS-PKCE-07')], {
      faults: ['as-pkce-optional', 'as-pkce-verifier-ignored'],
    });
    expect(r!.status, summarize([r!])).toBe('fail');
    expect(r!.message).toMatch(/code issued without challenge was accepted/);
  });
});

describe('AS-AUTHZ-12: the code lifetime, judged against the wait the operator accepts', () => {
  const check = () => [byId('AS-AUTHZ-12')];
  it('without a wait it skips and says how to give one', async () => {
    const [r] = await runAgainstEmbedded(check(), { codeLifetimeWaitSeconds: 0 });
    expect(r!.status, summarize([r!])).toBe('skip');
    expect(r!.howToProvide).toMatch(/--code-lifetime-wait SECONDS/);
  });
  it('codes of 2 s refused after 2.5 s pass; codes of 60 s (the reference default) outlive a 2.5 s wait', async () => {
    const [short] = await runAgainstEmbedded(check());
    expect(short!.status, summarize([short!])).toBe('pass');
    expect(short!.message).toMatch(/refused 2\.\d s after issue \(.*invalid_grant/);
    expect(short!.data).toMatchObject({ waitSeconds: 2.5, redeemed: false });
    const [long] = await runAgainstEmbedded(check(), { server: { codeTtlSeconds: 60 } });
    expect(long!.status, summarize([long!])).toBe('warn');
    expect(long!.data).toMatchObject({ redeemed: true });
  });
  it('--code-lifetime-wait: seconds up to 600 (the RECOMMENDED maximum), nothing above', () => {
    expect(loadRunConfig(['--code-lifetime-wait', '600']).config.codeLifetimeWait).toBe(600);
    expect(loadRunConfig(['--code-lifetime-wait', '2500ms']).config.codeLifetimeWait).toBe(2.5);
    expect(() => loadRunConfig(['--code-lifetime-wait', '601'])).toThrow(
      /--code-lifetime-wait: must be at most 600/,
    );
    expect(loadRunConfig([]).config.codeLifetimeWait).toBeUndefined();
  });
});

describe('each named fault turns its checks red', () => {
  const faults = [...new Set(CHECKS.flatMap((c) => c.faults))].filter((f) => !CONSENT_FAULTS.has(f));
  it('every named fault has an expected message', () => {
    expect(faults.filter((f) => !FAULT_MESSAGE[f])).toEqual([]);
  });
  // Several servers at once keeps the file fast; each run is independent (its own server and port).
  it.concurrent.each(faults)('%s', async (fault) => {
    const named = CHECKS.filter((c) => c.faults.includes(fault));
    const results = await runAgainstEmbedded(named, { faults: faultParts(fault) });
    for (const r of results) {
      const check = byId(r.id);
      expect(r.status, summarize([r])).toBe(check.level === 'MUST' ? 'fail' : 'warn');
      expect(r.message, r.id).toMatch(FAULT_MESSAGE[fault]!);
    }
  });
});
