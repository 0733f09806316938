// Every authorization-server fault, proven: one probe per fault that holds on a clean server and
// breaks when (only) that fault is switched on. A probe returns true when the server conforms.
// Plus the catalogue rules: every fault has a probe, and is read in exactly one place of the code.

import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AS_FAULTS } from '../../reference-server/as/faults.ts';
import type { ReferenceServerOptions } from '../../reference-server/server.ts';
import {
  authorize,
  authorizeUrl,
  basic,
  type DocHost,
  get,
  getCode,
  getTokens,
  type Harness,
  jwtPart,
  pkce,
  post,
  publishDoc,
  REDIRECT_URI,
  redeem,
  refresh,
  register,
  registerRaw,
  revoke,
  startAs,
  startDocHost,
  tokenRequest,
} from './helpers.ts';

interface Env {
  docs: DocHost;
  /** Connections seen by a TCP listener on loopback (the SSRF target). */
  connections: () => number;
  ssrfPort: number;
}

interface FaultProbe {
  fault: string;
  options?: ReferenceServerOptions;
  /** True when the server behaves as the spec asks. */
  probe: (h: Harness, env: Env) => Promise<boolean>;
}

const errorOf = (out: { location: URL | undefined }) => out.location?.searchParams.get('error') ?? undefined;
const metadata = async (h: Harness) => (await get(h, '/.well-known/oauth-authorization-server')).json ?? {};
const consentOff: ReferenceServerOptions = { autoApprove: false };
const cimdOn: ReferenceServerOptions = { allowLoopbackCimd: true };
let docN = 0;
const docPath = () => `/fault-docs/${++docN}.json`;

/** Opens the consent page for a fresh client; returns the page and its hidden fields. */
async function openConsent(h: Harness, registration: Record<string, unknown> = {}) {
  const client = await register(h, registration);
  const { challenge } = pkce();
  const res = await fetch(
    authorizeUrl(h, {
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: client.redirect_uris[0],
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: h.resource,
    }),
    { redirect: 'manual' },
  );
  const html = await res.text();
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? '';
  return { res, html, requestId: field('request_id'), csrf: field('csrf') };
}

const submitConsent = (h: Harness, fields: Record<string, string>) =>
  post(h, '/consent', new URLSearchParams(fields).toString(), {
    'content-type': 'application/x-www-form-urlencoded',
  });

const PROBES: FaultProbe[] = [
  // Metadata
  {
    fault: 'as-metadata-missing',
    probe: async (h) =>
      (await get(h, '/.well-known/oauth-authorization-server')).status === 200 ||
      (await get(h, '/.well-known/openid-configuration')).status === 200,
  },
  {
    fault: 'as-metadata-wrong-content-type',
    probe: async (h) =>
      (await get(h, '/.well-known/oauth-authorization-server')).headers.get('content-type') ===
      'application/json',
  },
  { fault: 'as-issuer-trailing-slash', probe: async (h) => (await metadata(h)).issuer === h.issuer },
  {
    fault: 'as-metadata-no-s256',
    probe: async (h) =>
      ((await metadata(h)).code_challenge_methods_supported as string[] | undefined)?.includes('S256') ===
      true,
  },
  {
    fault: 'as-metadata-implicit-advertised',
    probe: async (h) => {
      const md = await metadata(h);
      return (
        !(md.response_types_supported as string[]).includes('token') &&
        !(md.grant_types_supported as string[]).includes('implicit')
      );
    },
  },
  {
    fault: 'as-metadata-no-cimd-flag',
    probe: async (h) => (await metadata(h)).client_id_metadata_document_supported === true,
  },
  {
    fault: 'as-metadata-no-iss-flag',
    probe: async (h) => (await metadata(h)).authorization_response_iss_parameter_supported === true,
  },
  {
    fault: 'as-metadata-no-none-auth',
    probe: async (h) =>
      ((await metadata(h)).token_endpoint_auth_methods_supported as string[]).includes('none'),
  },
  {
    fault: 'as-jwks-private-key',
    probe: async (h) => !('d' in ((await get(h, '/jwks')).json?.keys as Record<string, unknown>[])[0]!),
  },

  {
    fault: 'as-issuer-with-query',
    probe: async (h) => !String((await metadata(h)).issuer).includes('?'),
  },
  {
    fault: 'as-metadata-incomplete',
    probe: async (h) => Array.isArray((await metadata(h)).response_types_supported),
  },
  {
    fault: 'as-metadata-http-endpoint',
    probe: async (h) => String((await metadata(h)).jwks_uri).startsWith(h.issuer),
  },
  {
    fault: 'as-metadata-no-registration-endpoint',
    probe: async (h) => (await metadata(h)).registration_endpoint === `${h.issuer}/register`,
  },

  // Authorization endpoint
  {
    fault: 'as-authorize-cors',
    probe: async (h) => {
      const client = await register(h);
      const res = await fetch(authorizeUrl(h, { client_id: client.client_id }), {
        headers: { origin: 'https://evil.example' },
        redirect: 'manual',
      });
      return res.headers.get('access-control-allow-origin') === null;
    },
  },
  {
    fault: 'as-authorize-get-refused',
    probe: async (h) => (await authorize(h, await register(h))).status === 302,
  },
  {
    fault: 'as-authorize-unknown-param-rejected',
    probe: async (h) =>
      Boolean((await authorize(h, await register(h), { foo: 'bar' })).location?.searchParams.get('code')),
  },
  {
    fault: 'as-response-type-unchecked',
    probe: async (h) =>
      errorOf(await authorize(h, await register(h), { response_type: 'token' })) ===
      'unsupported_response_type',
  },
  {
    fault: 'as-authorize-error-description-unsafe',
    probe: async (h) => {
      const description = (
        await authorize(h, await register(h), { response_type: 'token' })
      ).location?.searchParams.get('error_description');
      // OAuth 2.1 §4.1.2.1: %x20-21 / %x23-5B / %x5D-7E only.
      return (
        description !== null &&
        description !== undefined &&
        /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/.test(description)
      );
    },
  },
  {
    fault: 'as-state-dropped',
    probe: async (h) =>
      (await authorize(h, await register(h))).location?.searchParams.get('state') === 'state-1',
  },
  {
    fault: 'as-authorize-duplicates-accepted',
    probe: async (h) =>
      errorOf(await authorize(h, await register(h), { state: ['state-1', 'state-2'] })) === 'invalid_request',
  },
  {
    fault: 'as-resource-unchecked',
    probe: async (h) =>
      errorOf(await authorize(h, await register(h), { resource: 'https://other.example/mcp' })) ===
      'invalid_target',
  },
  {
    fault: 'as-error-redirect-before-login',
    options: consentOff,
    probe: async (h) => (await authorize(h, await register(h), { code_challenge: undefined })).status === 200,
  },
  {
    fault: 'as-consent-307',
    options: consentOff,
    probe: async (h) => {
      const page = await openConsent(h);
      const r = await submitConsent(h, {
        request_id: page.requestId,
        csrf: page.csrf,
        username: 'alice',
        password: 'alice',
        action: 'approve',
      });
      return r.status === 303;
    },
  },
  {
    fault: 'as-consent-frameable',
    options: consentOff,
    probe: async (h) => {
      const { res } = await openConsent(h);
      return (
        res.headers.get('x-frame-options') === 'DENY' &&
        /frame-ancestors 'none'/.test(res.headers.get('content-security-policy') ?? '')
      );
    },
  },
  {
    fault: 'as-consent-hides-redirect-host',
    options: consentOff,
    probe: async (h) =>
      (await openConsent(h, { redirect_uris: ['https://app.example/cb'] })).html.includes('app.example'),
  },

  // Redirect URIs
  {
    fault: 'as-redirect-uri-prefix-match',
    probe: async (h) =>
      (await authorize(h, await register(h), { redirect_uri: `${REDIRECT_URI}/evil` })).location ===
      undefined,
  },
  {
    fault: 'as-loopback-port-strict',
    probe: async (h) =>
      (
        await authorize(h, await register(h), { redirect_uri: 'http://127.0.0.1:53123/cb' })
      ).location?.searchParams.has('code') === true,
  },
  {
    fault: 'as-unknown-client-redirects',
    probe: async (h) =>
      (await authorize(h, { client_id: 'dcr-unknown', redirect_uris: [REDIRECT_URI] })).location ===
      undefined,
  },
  {
    fault: 'as-redirect-uri-default-multiple',
    probe: async (h) => {
      const client = await register(h, { redirect_uris: [REDIRECT_URI, 'http://127.0.0.1/other'] });
      return (await authorize(h, client, { redirect_uri: undefined })).location === undefined;
    },
  },
  {
    fault: 'as-redirect-query-dropped',
    probe: async (h) => {
      const client = await register(h, { redirect_uris: ['https://app.example/cb?tenant=1'] });
      return (await authorize(h, client)).location?.searchParams.get('tenant') === '1';
    },
  },
  {
    fault: 'as-dcr-http-redirect-accepted',
    probe: async (h) =>
      (await registerRaw(h, { redirect_uris: ['http://evil.example/cb'] })).json?.error ===
      'invalid_redirect_uri',
  },
  {
    fault: 'as-dcr-dangerous-scheme-accepted',
    probe: async (h) =>
      (await registerRaw(h, { redirect_uris: ['javascript:alert(1)'] })).json?.error ===
      'invalid_redirect_uri',
  },

  // PKCE
  {
    fault: 'as-pkce-optional',
    probe: async (h) =>
      errorOf(await authorize(h, await register(h), { code_challenge: undefined })) === 'invalid_request',
  },
  {
    fault: 'as-pkce-unknown-method-accepted',
    probe: async (h) =>
      errorOf(await authorize(h, await register(h), { code_challenge_method: 'S512' })) === 'invalid_request',
  },
  {
    fault: 'as-pkce-plain-accepted',
    probe: async (h) =>
      errorOf(await authorize(h, await register(h), { code_challenge_method: 'plain' })) ===
      'invalid_request',
  },
  {
    fault: 'as-pkce-challenge-syntax-unchecked',
    probe: async (h) =>
      errorOf(await authorize(h, await register(h), { code_challenge: 'a'.repeat(42) })) ===
      'invalid_request',
  },
  {
    fault: 'as-pkce-verifier-ignored',
    probe: async (h) => {
      const client = await register(h);
      return (
        (await redeem(h, client, await getCode(h, client), { code_verifier: 'b'.repeat(43) })).json?.error ===
        'invalid_grant'
      );
    },
  },
  {
    fault: 'as-pkce-verifier-optional',
    probe: async (h) => {
      const client = await register(h);
      return (await redeem(h, client, await getCode(h, client), { code_verifier: undefined })).status === 400;
    },
  },
  {
    fault: 'as-pkce-challenge-as-verifier',
    probe: async (h) => {
      const client = await register(h);
      const out = await authorize(h, client);
      const code = {
        code: out.location!.searchParams.get('code')!,
        verifier: out.challenge,
        location: out.location!,
      };
      return (await redeem(h, client, code)).status === 400;
    },
  },

  // Token endpoint: codes
  {
    fault: 'as-token-no-cache-control',
    probe: async (h) => {
      const client = await register(h);
      return (await redeem(h, client, await getCode(h, client))).headers.get('cache-control') === 'no-store';
    },
  },
  {
    fault: 'as-token-no-token-type',
    probe: async (h) => {
      const client = await register(h);
      return (await redeem(h, client, await getCode(h, client))).json?.token_type === 'Bearer';
    },
  },
  {
    fault: 'as-token-unsupported-grant-wrong-error',
    probe: async (h) => {
      const client = await register(h);
      const r = await tokenRequest(h, {
        grant_type: 'password',
        username: 'a',
        password: 'b',
        client_id: client.client_id,
      });
      return r.status === 400 && r.json?.error === 'unsupported_grant_type';
    },
  },
  {
    fault: 'as-token-error-nonstandard',
    probe: async (h) => {
      const client = await register(h);
      const r = await redeem(h, client, {
        code: 'no-such-code',
        verifier: pkce().verifier,
        location: new URL('http://x'),
      });
      return r.json?.error === 'invalid_grant';
    },
  },
  {
    fault: 'as-client-credentials-public',
    probe: async (h) => {
      const client = await register(h);
      const r = await tokenRequest(h, { grant_type: 'client_credentials', client_id: client.client_id });
      return r.status === 400 && r.json?.access_token === undefined;
    },
  },
  {
    fault: 'as-code-redeem-race',
    probe: async (h) => {
      const client = await register(h);
      const code = await getCode(h, client);
      const replies = await Promise.all(Array.from({ length: 5 }, () => redeem(h, client, code)));
      return replies.filter((r) => r.status === 200).length === 1;
    },
  },
  {
    fault: 'as-code-low-entropy',
    probe: async (h) => {
      const client = await register(h);
      return (await getCode(h, client)).code.length >= 43;
    },
  },
  {
    // AS-AUTHZ-12: with a 1 s code lifetime, a code redeemed 1.5 s after issue is refused.
    fault: 'as-code-long-lived',
    options: { codeTtlSeconds: 1 },
    probe: async (h) => {
      const client = await register(h);
      const code = await getCode(h, client);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return (await redeem(h, client, code)).json?.error === 'invalid_grant';
    },
  },
  {
    // AS-META-15: refresh tokens come without offline_access (the clean server does not know it).
    fault: 'as-refresh-only-offline-access-unlisted',
    probe: async (h) => typeof (await getTokens(h, await register(h))).refresh_token === 'string',
  },
  {
    fault: 'as-code-reuse-allowed',
    probe: async (h) => {
      const client = await register(h);
      const code = await getCode(h, client);
      await redeem(h, client, code);
      return (await redeem(h, client, code)).json?.error === 'invalid_grant';
    },
  },
  {
    fault: 'as-code-replay-no-revoke',
    probe: async (h) => {
      const client = await register(h);
      const code = await getCode(h, client);
      const first = await redeem(h, client, code);
      await redeem(h, client, code);
      return (await refresh(h, client, String(first.json?.refresh_token))).status === 400;
    },
  },
  {
    fault: 'as-code-replay-revokes-unvalidated',
    probe: async (h) => {
      const client = await register(h);
      const code = await getCode(h, client);
      const first = await redeem(h, client, code);
      await redeem(h, client, code, { code_verifier: 'b'.repeat(43) });
      return (await refresh(h, client, String(first.json?.refresh_token))).status === 200;
    },
  },
  {
    fault: 'as-code-client-unbound',
    probe: async (h) => {
      const client = await register(h);
      const other = await register(h);
      return (
        (await redeem(h, client, await getCode(h, client), { client_id: other.client_id })).json?.error ===
        'invalid_grant'
      );
    },
  },
  {
    fault: 'as-token-redirect-uri-ignored',
    probe: async (h) => {
      const client = await register(h);
      const r = await redeem(h, client, await getCode(h, client), { redirect_uri: 'http://127.0.0.1/other' });
      return r.json?.error === 'invalid_grant';
    },
  },
  {
    fault: 'as-token-basic-no-www-authenticate',
    probe: async (h) => {
      const client = await register(h, { token_endpoint_auth_method: 'client_secret_basic' });
      const r = await tokenRequest(
        h,
        { grant_type: 'refresh_token', refresh_token: 'x' },
        { authorization: basic(client.client_id, 'wrong') },
      );
      return r.status === 401 && /^Basic/.test(r.headers.get('www-authenticate') ?? '');
    },
  },
  {
    fault: 'as-token-get-accepted',
    probe: async (h) => {
      const client = await register(h);
      const code = await getCode(h, client);
      const q = new URLSearchParams({
        grant_type: 'authorization_code',
        code: code.code,
        code_verifier: code.verifier,
        client_id: client.client_id,
      });
      return (await fetch(`${h.issuer}/token?${q}`)).status !== 200;
    },
  },
  {
    fault: 'as-token-duplicates-accepted',
    probe: async (h) => {
      const client = await register(h);
      const code = await getCode(h, client);
      const r = await tokenRequest(h, {
        grant_type: 'authorization_code',
        code: code.code,
        code_verifier: [code.verifier, code.verifier],
        client_id: client.client_id,
      });
      return r.json?.error === 'invalid_request';
    },
  },
  {
    fault: 'as-token-resource-unchecked',
    probe: async (h) => {
      const client = await register(h);
      const r = await redeem(h, client, await getCode(h, client), { resource: 'https://other.example/mcp' });
      return r.json?.error === 'invalid_target';
    },
  },
  {
    fault: 'as-client-auth-skipped',
    probe: async (h) => {
      const client = await register(h, { token_endpoint_auth_method: 'client_secret_post' });
      return (await redeem(h, client, await getCode(h, client))).status === 401;
    },
  },

  // Access tokens
  {
    fault: 'as-aud-ignores-resource',
    probe: async (h) => jwtPart((await getTokens(h, await register(h))).access_token, 1).aud === h.resource,
  },
  {
    fault: 'as-access-token-long-lived',
    probe: async (h) => {
      const claims = jwtPart((await getTokens(h, await register(h))).access_token, 1);
      return (claims.exp as number) - (claims.iat as number) <= 3600;
    },
  },
  {
    fault: 'as-jwt-typ-jwt',
    probe: async (h) => jwtPart((await getTokens(h, await register(h))).access_token, 0).typ === 'at+jwt',
  },

  // Refresh tokens
  {
    fault: 'as-refresh-no-rotation',
    probe: async (h) => {
      const client = await register(h);
      const t = await getTokens(h, client);
      const r = await refresh(h, client, t.refresh_token);
      return typeof r.json?.refresh_token === 'string' && r.json.refresh_token !== t.refresh_token;
    },
  },
  {
    fault: 'as-refresh-superseded-accepted',
    probe: async (h) => {
      const client = await register(h);
      const t = await getTokens(h, client);
      await refresh(h, client, t.refresh_token);
      // The token that was rotated away must be refused.
      return (await refresh(h, client, t.refresh_token)).status === 400;
    },
  },
  {
    fault: 'as-refresh-reuse-undetected',
    probe: async (h) => {
      const client = await register(h);
      const t = await getTokens(h, client);
      const rt2 = String((await refresh(h, client, t.refresh_token)).json?.refresh_token);
      await refresh(h, client, t.refresh_token);
      return (await refresh(h, client, rt2)).status === 400;
    },
  },
  {
    fault: 'as-refresh-client-unbound',
    probe: async (h) => {
      const client = await register(h);
      const other = await register(h);
      const t = await getTokens(h, client);
      return (await refresh(h, other, t.refresh_token)).status === 400;
    },
  },
  {
    fault: 'as-refresh-scope-widening',
    probe: async (h) => {
      const client = await register(h);
      const t = await getTokens(h, client);
      return (
        (await refresh(h, client, t.refresh_token, { scope: 'mcp:tools mcp:write' })).json?.error ===
        'invalid_scope'
      );
    },
  },
  {
    fault: 'as-refresh-resource-unchecked',
    probe: async (h) => {
      const client = await register(h);
      const t = await getTokens(h, client);
      return (
        (await refresh(h, client, t.refresh_token, { resource: 'https://other.example/mcp' })).json?.error ===
        'invalid_target'
      );
    },
  },
  {
    fault: 'as-refresh-failure-burns-token',
    probe: async (h) => {
      const client = await register(h);
      const t = await getTokens(h, client);
      await refresh(h, client, t.refresh_token, { scope: 'admin' });
      return (await refresh(h, client, t.refresh_token)).status === 200;
    },
  },

  // Registration
  {
    fault: 'as-dcr-200',
    probe: async (h) =>
      (await registerRaw(h, { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' })).status ===
      201,
  },
  {
    fault: 'as-dcr-metadata-not-echoed',
    probe: async (h) => {
      const r = await registerRaw(h, {
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'none',
        client_name: 'n',
      });
      return Array.isArray(r.json?.redirect_uris) && r.json?.client_name === 'n';
    },
  },
  {
    fault: 'as-dcr-no-secret-expiry',
    probe: async (h) =>
      (await registerRaw(h, { redirect_uris: [REDIRECT_URI] })).json?.client_secret_expires_at === 0,
  },
  {
    fault: 'as-dcr-no-cache-control',
    probe: async (h) =>
      (await registerRaw(h, { redirect_uris: [REDIRECT_URI] })).headers.get('cache-control') === 'no-store',
  },
  {
    fault: 'as-dcr-metadata-unchecked',
    probe: async (h) =>
      (await registerRaw(h, { redirect_uris: [REDIRECT_URI], response_types: ['token'] })).status === 400,
  },
  {
    fault: 'as-dcr-initial-token-required',
    probe: async (h) => (await registerRaw(h, { redirect_uris: [REDIRECT_URI] })).status === 201,
  },
  {
    fault: 'as-dcr-native-loopback-refused',
    probe: async (h) =>
      (await registerRaw(h, { redirect_uris: [REDIRECT_URI], application_type: 'native' })).status === 201,
  },
  {
    fault: 'as-proxy-upstream-no-consent',
    probe: async (h) =>
      (await authorize(h, await register(h))).location?.href.startsWith(REDIRECT_URI) === true,
  },
  {
    fault: 'as-dcr-https-client-id',
    probe: async (h) => !(await register(h)).client_id.startsWith('https://'),
  },

  // Client ID Metadata Documents
  {
    fault: 'as-cimd-disabled',
    options: cimdOn,
    probe: async (h, env) =>
      (await authorize(h, publishDoc(env.docs, docPath()))).location?.searchParams.has('code') === true,
  },
  {
    fault: 'as-cimd-client-id-mismatch-accepted',
    options: cimdOn,
    probe: async (h, env) => {
      const client = publishDoc(env.docs, docPath(), { client_id: 'https://other.example/c.json' });
      return (await authorize(h, client)).location === undefined;
    },
  },
  {
    fault: 'as-cimd-redirect-unchecked',
    options: cimdOn,
    probe: async (h, env) =>
      (await authorize(h, publishDoc(env.docs, docPath()), { redirect_uri: 'http://127.0.0.1/other' }))
        .location === undefined,
  },
  {
    fault: 'as-cimd-url-unchecked',
    options: cimdOn,
    probe: async (h, env) => {
      const before = env.docs.hits.length;
      const out = await authorize(h, {
        client_id: `${env.docs.origin}/a/../c.json`,
        redirect_uris: [REDIRECT_URI],
      });
      return out.location === undefined && env.docs.hits.length === before;
    },
  },
  {
    fault: 'as-cimd-secret-accepted',
    options: cimdOn,
    probe: async (h, env) => {
      const client = publishDoc(env.docs, docPath(), { token_endpoint_auth_method: 'client_secret_post' });
      return (await authorize(h, client)).location === undefined;
    },
  },
  {
    fault: 'as-cimd-ssrf-unguarded',
    probe: async (h, env) => {
      const before = env.connections();
      await authorize(h, {
        client_id: `https://127.0.0.1:${env.ssrfPort}/c.json`,
        redirect_uris: [REDIRECT_URI],
      });
      return env.connections() === before;
    },
  },
  {
    fault: 'as-cimd-caches-errors',
    options: cimdOn,
    probe: async (h, env) => {
      const path = docPath();
      const client = publishDoc(env.docs, path);
      const good = env.docs.docs.get(path);
      let calls = 0;
      env.docs.docs.set(path, () => (++calls === 1 ? { status: 500, body: '' } : (good as { body: string })));
      await authorize(h, client);
      return (await authorize(h, client)).location?.searchParams.has('code') === true;
    },
  },
  {
    fault: 'as-cimd-no-size-cap',
    options: cimdOn,
    probe: async (h, env) => {
      const client = publishDoc(env.docs, docPath(), { padding: 'x'.repeat(1024 * 1024) });
      return (await authorize(h, client)).location === undefined;
    },
  },

  // iss
  {
    fault: 'as-iss-missing',
    probe: async (h) =>
      (await authorize(h, await register(h))).location?.searchParams.get('iss') === h.issuer,
  },
  {
    fault: 'as-iss-missing-on-error',
    probe: async (h) =>
      (await authorize(h, await register(h), { scope: 'admin' })).location?.searchParams.get('iss') ===
      h.issuer,
  },
  {
    fault: 'as-iss-mismatch',
    probe: async (h) =>
      (await authorize(h, await register(h))).location?.searchParams.get('iss') === h.issuer,
  },

  // Revocation
  {
    fault: 'as-revoke-unknown-token-error',
    probe: async (h) => (await revoke(h, await register(h), 'unknown')).status === 200,
  },
  {
    fault: 'as-refresh-rotate-race',
    probe: async (h) => {
      const client = await register(h);
      const t = await getTokens(h, client);
      const replies = await Promise.all(Array.from({ length: 5 }, () => refresh(h, client, t.refresh_token)));
      return replies.filter((r) => r.status === 200).length === 1;
    },
  },
  {
    fault: 'as-revoke-requires-hint',
    probe: async (h) => {
      const client = await register(h);
      const t = await getTokens(h, client);
      return (await revoke(h, client, t.refresh_token)).status === 200;
    },
  },
  {
    fault: 'as-revoke-access-token-refused',
    probe: async (h) => {
      const client = await register(h);
      const t = await getTokens(h, client);
      return (await revoke(h, client, t.access_token)).status === 200;
    },
  },
  {
    fault: 'as-revoke-noop',
    probe: async (h) => {
      const client = await register(h);
      const t = await getTokens(h, client);
      await revoke(h, client, t.refresh_token);
      return (await refresh(h, client, t.refresh_token)).status === 400;
    },
  },
  {
    fault: 'as-revoke-any-client',
    probe: async (h) => {
      const client = await register(h);
      const t = await getTokens(h, client);
      await revoke(h, await register(h), t.refresh_token);
      return (await refresh(h, client, t.refresh_token)).status === 200;
    },
  },
];

let env: Env;
let listener: Server;
beforeAll(async () => {
  let connections = 0;
  listener = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  env = {
    docs: await startDocHost(),
    connections: () => connections,
    ssrfPort: (listener.address() as { port: number }).port,
  };
});
afterAll(async () => {
  await env.docs.close();
  await new Promise((resolve) => listener.close(resolve));
});

describe('each AS fault changes the behaviour it names', () => {
  it.each(PROBES.map((p) => [p.fault, p] as const))('%s', async (_name, { fault, options, probe }) => {
    const clean = await startAs(options);
    try {
      expect(await probe(clean, env), 'the probe must hold on the clean server').toBe(true);
    } finally {
      await clean.close();
    }
    const broken = await startAs({ ...options, faults: [fault] });
    try {
      expect(await probe(broken, env), `the probe must fail with ${fault}`).toBe(false);
    } finally {
      await broken.close();
    }
  });
});

describe('the AS fault catalogue', () => {
  const sources = readdirSync(join(import.meta.dirname, '../../reference-server/as'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(import.meta.dirname, '../../reference-server/as', f), 'utf8'))
    .join('\n');

  it('every fault has a probe above, and every probe names a catalogued fault', () => {
    expect(PROBES.map((p) => p.fault).sort()).toEqual(AS_FAULTS.map((f) => f.name).sort());
  });

  it.each(AS_FAULTS.map((f) => [f.name]))('%s is read in exactly one place', (name) => {
    expect(sources.split(`fault('${name}')`).length - 1).toBe(1);
  });

  it('names are kebab-case with the as- prefix, descriptions are one sentence', () => {
    for (const f of AS_FAULTS) {
      expect(f.name).toMatch(/^as-[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(f.half).toBe('as');
      expect(f.description).toMatch(/^[^\n]+\.$/);
    }
  });
});
