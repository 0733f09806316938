// RS — token validation. Requirements §2.2, rows RS-401-08..22 (challenges RS-401-01..07: rs-challenge.ts;
// audience RS-AUD-*: rs-audience.ts).
//
// Every probe is the request that needs authorization in the revision (initialize in 2025-*,
// tools/list in 2026-07-28), otherwise valid, with one thing wrong about the token. Before any
// altered token is judged, the unaltered one is shown to be accepted (suites/token-probes.ts), so
// a refusal can only be about the defect under test. Forged tokens come from the `minter` fixture
// (the embedded server's key, or --mint-key); without a key, the rows the catalogue marks [tok]
// work from the real token (tampering, re-encoding, foreign keys), and the [mint] rows skip.
// Status codes: requirements §3 A8, every token-validity failure is a 401 (403 is for scope).

import { base64url, exportJWK, exportSPKI, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { type CheckContext, defineCheck, type Quote } from '../runner/check.ts';
import { authorizationServerOf } from '../runner/fixtures.ts';
import { HttpTransportError } from '../runner/http.ts';
import { type McpProbe, mcpCall, type McpSession } from '../runner/mcp.ts';
import { tamperPayload } from '../runner/mint.ts';
import { revokeToken } from '../runner/oauth.ts';
import { isStateless, REVISIONS } from '../runner/revisions.ts';
import { openSessionOrSkip } from './rs-scope.ts';
import {
  ERROR_ATTRIBUTE_ON_BAD_TOKEN,
  inMcp,
  INVALID_TOKENS_GET_401,
  NO_OTHER_TOKENS,
  ONLY_OWN_AUDIENCE,
  STATUS_CODES,
  CHALLENGE_ON_REFUSAL,
  BEARER_SCHEME,
  JWT_VALIDATION_INTRO,
  VALIDATE_ACCESS_TOKEN,
  VERIFY_ALL_INBOUND,
} from './rs-quotes.ts';
import {
  type ControlOutcome,
  controlHeld,
  decodeJwtParts,
  describeOutcome,
  forger,
  judgeAllRefused,
  judgeRefusal,
  missingInvalidToken,
  nowSeconds,
  outcomeOf,
  outcomeRow,
  presentToken,
  probeNeedsToken,
  onProtectedAndPublicRequests,
  probeValidatesTokens,
  realTokenControl,
  replyOutcome,
  type TokenOutcome,
  tokenControl,
  underControl,
  validTokenControl,
} from './token-probes.ts';

/** The usual refs of "invalid tokens get 401". */
const TOKEN_HANDLING = 'MCP 2025-06-18 §Token Handling ("Invalid or expired tokens MUST receive a HTTP 401")';

// RFC 6750 §3.1, under the invalid_token error code.
const INVALID_TOKEN_STATUS: Quote = {
  source: 'RFC 6750',
  section: '3.1',
  text: 'The resource SHOULD respond with the HTTP 401 (Unauthorized) status code.',
  keyword: 'SHOULD',
  binds: 'resource-server',
};

const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));

/** OAuth 2.1 draft-13 §5.3.1 (the RFC 6750 §3 sentence): the error attribute on a failed token. */
const ERROR_ATTRIBUTE_SHOULD: Quote = {
  source: 'OAuth 2.1 draft-13',
  section: '5.3.1',
  text: 'If the protected resource request included an access token and failed authentication, the resource server SHOULD include the error attribute to provide the client with the reason why the access request was declined.',
  keyword: 'SHOULD',
  binds: 'resource-server',
};

export const RS_401_08 = defineCheck({
  id: 'RS-401-08',
  title: 'A malformed token gets 401',
  level: 'MUST',
  refs: [TOKEN_HANDLING, 'RFC6750 §3.1', 'OAuth 2.1 draft-13 §5.3'],
  quotes: [...INVALID_TOKENS_GET_401, ERROR_ATTRIBUTE_SHOULD, INVALID_TOKEN_STATUS],
  revisions: REVISIONS,
  needs: [],
  faults: ['rs-bad-token-500', 'rs-bad-token-403'],
  requirement:
    'A Bearer token that is not a token the server issued (random text, a truncated JWT, three junk segments, a 10 KB string) is refused with HTTP 401, whatever the server does with requests that carry no token; never a 2xx, a 403 or a server error. A credential that is not even token68 syntax may instead get 400 invalid_request. The 401 should carry error="invalid_token" (OAuth 2.1 §5.3.1 / RFC 6750 §3.1 SHOULD: warn when it does not). When the request the revision names (initialize, tools/list) is answered without a token and the probes therefore use a method that needs one, they are sent on the public request too: an invalid token gets 401 there as well (issue #13 item 4). This check owns the status of malformed tokens; RS-401-22 owns it for well-formed invalid ones.',
  remediation:
    'Treat every token that fails to parse or verify as invalid: answer 401 with `WWW-Authenticate: Bearer error="invalid_token", …`; catch parser exceptions instead of letting them become 500.',
  probe:
    'POST the protected request with `Bearer abc`, a two-segment JWT, `a.b.c`, 10 KB of `A`, and `Bearer a b` (not token68), between two controls with a valid token.',
  control:
    "The same request with a token the target accepts (the harness's, else a correctly forged one), right before and right after the malformed ones, on the protected request and, where the revision's own request is public, on that one too: served, it shows each refusal was about the malformed credential.",
  async run(t) {
    const { token, what: describedToken } = await validTokenControl(t);
    const truncatedJwt = `${encodeJson({ alg: 'ES256', typ: 'at+jwt' })}.${encodeJson({ sub: 'x' })}`;
    const probes: [string, string, boolean][] = [
      ['Bearer abc', 'Bearer abc', false],
      ['a truncated JWT (header.payload, no signature segment)', `Bearer ${truncatedJwt}`, false],
      ['Bearer a.b.c', 'Bearer a.b.c', false],
      ['a 10 KB token', `Bearer ${'A'.repeat(10 * 1024)}`, false],
      ['a credential that is not token68 (Bearer a b)', 'Bearer a b', true],
    ];
    const send = (request?: McpProbe) =>
      Promise.all(
        probes.map(([probe, line]) =>
          presentToken(t, undefined, request ? `${probe}, on ${request.method}` : probe, {
            authorization: [line],
            ...(request ? { request } : {}),
          }),
        ),
      );
    const outcomes = await onProtectedAndPublicRequests(
      t,
      token,
      describedToken,
      'make sure the token the harness obtained is accepted by this endpoint (--token-env NAME)',
      send,
    );
    if (!outcomes) return;
    t.data('probes', outcomes.map(outcomeRow));
    let ok = 0;
    outcomes.forEach((o, n) => {
      const i = n % probes.length;
      // RFC 6585 §5: a header too large for the server may be refused with 431 before any token check.
      if (o.status === 431 && i === 3) {
        t.note('the 10 KB token was refused with 431 (header too large) before token validation');
        ok++;
      } else if (judgeRefusal(t, o, { allow400: probes[i]![2], ownsStatus: true })) ok++;
    });
    // The error code is judged on the token68 probes (a non-token68 credential is a malformed request).
    const bare = missingInvalidToken(outcomes.filter((_, n) => !probes[n % probes.length]![2]));
    if (bare.length > 0)
      t.violated(
        `401 without error="invalid_token" in the Bearer challenge for: ${bare.map((o) => `${o.probe} (${describeOutcome(o)})`).join('; ')}; OAuth 2.1 §5.3.1 (RFC 6750 §3.1): the resource server SHOULD include the error attribute when a presented token failed`,
        { exchanges: bare.map((o) => o.exchange), level: 'SHOULD' },
      );
    if (ok === outcomes.length)
      t.conforms(`all ${ok} malformed tokens were refused (401, or 400 for non-token68)`);
  },
});

export const RS_401_09 = defineCheck({
  id: 'RS-401-09',
  title: 'An expired token gets 401',
  level: 'MUST',
  refs: [TOKEN_HANDLING, 'OAuth 2.1 draft-13 §5.2', 'RFC9068 §4', 'RFC7519 §4.1.4'],
  quotes: [
    ...INVALID_TOKENS_GET_401,
    {
      source: 'OAuth 2.1 draft-13',
      section: '5.2',
      text: 'After receiving the access token, the resource server MUST check that the access token is not yet expired, is authorized to access the requested resource, was issued with the appropriate scope, and meets other policy requirements of the resource server to access the protected resource.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
    {
      source: 'RFC 9068',
      section: '4',
      text: 'The current time MUST be before the time represented by the "exp" claim.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['minter'],
  faults: ['rs-expired-accepted'],
  requirement:
    'A token that is valid in every respect except that its `exp` lies in the past (10 minutes ago, well beyond any clock tolerance) is refused with 401 invalid_token. Needs a key the target trusts (forged token); waiting for a real token to expire is not done.',
  remediation:
    'Compare `exp` with the current time (a small clock tolerance is fine) and answer 401 when it has passed.',
  probe: 'POST the protected request with a forged token whose exp = now − 600 s (iat = now − 900 s).',
  control:
    'The same request with a correctly forged token (same key, same claims, not expired), right before and right after: served, it shows the refusal was about `exp`.',
  async run(t) {
    const f = await forger(t);
    const now = nowSeconds();
    const token = await f.mint({ claims: { iat: now - 900, exp: now - 600 } });
    const outcomes = await underControl(t, f.control, async () => [
      await presentToken(t, token, 'a token that expired 600 s ago'),
    ]);
    if (outcomes) judgeAllRefused(t, outcomes, 'the expired token');
  },
});

export const RS_401_10 = defineCheck({
  id: 'RS-401-10',
  title: 'A token whose signature does not verify gets 401',
  level: 'MUST',
  refs: ['OAuth 2.1 draft-13 §5.2', 'RFC9068 §4', TOKEN_HANDLING],
  quotes: [
    ...INVALID_TOKENS_GET_401,
    VALIDATE_ACCESS_TOKEN,
    {
      source: 'RFC 9068',
      section: '4',
      text: 'The resource server MUST validate the signature of all incoming JWT access tokens according to [RFC7515] using the algorithm specified in the JWT "alg" Header Parameter.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['token'],
  faults: ['rs-signature-not-checked'],
  requirement:
    "The harness's real access token with one payload character changed (header and signature kept) no longer verifies and is refused. For an opaque token, one character in its middle changes. Also sent on the revision's own request when that one is public (an invalid token gets 401 there too, issue #13 item 4). A refusal with another status than 401 is noted; RS-401-22 judges the status.",
  remediation:
    'Verify the JWS signature with the authorization server keys before trusting any claim (or look opaque tokens up / introspect them).',
  probe:
    'POST the protected request with the real token, then with a copy whose `sub` (or one middle character) is changed.',
  control:
    "The same request with the untouched access token, right before and right after (on the protected request and, where the revision's own request is public, on that one too): served, it shows the refusal was about the changed character.",
  async run(t) {
    const { token } = await realTokenControl(t);
    const tampered = tamperPayload(token);
    t.data('tokenKind', decodeJwtParts(token) ? 'JWT' : 'opaque');
    const outcomes = await onProtectedAndPublicRequests(
      t,
      token,
      "the harness's access token",
      'make sure the authorization flow yields a token this endpoint accepts, or pass one with --token-env NAME',
      async (request) => [
        await presentToken(
          t,
          tampered,
          `the real token with one payload character changed${request ? `, on ${request.method}` : ''}`,
          request ? { request } : {},
        ),
      ],
    );
    if (!outcomes) return;
    judgeAllRefused(t, outcomes, 'the tampered token');
  },
});

export const RS_401_11 = defineCheck({
  id: 'RS-401-11',
  title: 'An unsigned JWT (alg none) gets 401',
  level: 'MUST',
  refs: ['RFC9068 §4', 'RFC8725 §3.1', 'RFC8725 §3.2'],
  quotes: [
    ...INVALID_TOKENS_GET_401,
    {
      source: 'RFC 9068',
      section: '4',
      text: 'The resource server MUST reject any JWT in which the value of "alg" is "none".',
      keyword: 'MUST',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['token'],
  faults: ['rs-alg-none-accepted', 'rs-signature-not-checked'],
  requirement:
    'The real token\'s header and claims re-encoded with `alg` "none" (also "None" and "NONE") and an empty signature, and the real header with its signature removed, are all refused with 401. Applies to JWT access tokens; for opaque tokens a forged token\'s claims are used when a key is available.',
  remediation:
    'Use an explicit allow-list of signing algorithms (the ones your authorization server uses); never accept `none`, whatever its casing, or an empty signature.',
  probe:
    'POST the protected request with alg none / None / NONE and empty-signature variants of the real token.',
  control:
    'The same request with the real, signed access token (for an opaque token: a correctly signed forged one), right before and right after: served, it shows the refusal was about the missing signature.',
  async run(t) {
    const real = await realTokenControl(t);
    const { token } = real;
    const parts = decodeJwtParts(token);
    let variants: [string, string][];
    let control = real.control;
    if (parts) {
      const [head, payload] = token.split('.') as [string, string];
      variants = (['none', 'None', 'NONE'] as const).map((alg) => [
        `the real claims with alg "${alg}" and no signature`,
        `${encodeJson({ ...parts.header, alg })}.${payload}.`,
      ]);
      variants.push(['the real token with its signature removed', `${head}.${payload}.`]);
    } else {
      if (!(await t.optionalFixture('minter'))) {
        t.notApplicable(
          'the access token is opaque and the harness holds no key, so there are no JWT claims to send unsigned',
        );
        return;
      }
      // The one change is the signature: the control is the same token correctly signed.
      const f = await forger(t);
      control = f.control;
      variants = (['none', 'None', 'NONE', 'empty-signature'] as const).map((variant) => [
        `a forged token with ${variant === 'empty-signature' ? 'an empty signature' : `alg "${variant}"`}`,
        f.minter.unsigned({ variant, claims: f.baseClaims }),
      ]);
    }
    const outcomes = await underControl(t, control, () =>
      Promise.all(variants.map(([probe, v]) => presentToken(t, v, probe))),
    );
    if (outcomes) judgeAllRefused(t, outcomes, 'unsigned tokens');
  },
});

/** The AS public signing keys from its jwks_uri (public data; used for the algorithm-confusion variants). */
async function publishedKeys(t: CheckContext): Promise<JWK[]> {
  const as = await t.optionalFixture('as');
  const jwksUri = as?.metadata?.jwks_uri;
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) return [];
  const response = await t.http.request(jwksUri, {
    headers: { accept: 'application/json' },
    label: 'GET jwks_uri (public keys for the algorithm-confusion probe)',
  });
  const keys = (response.json() as { keys?: unknown } | undefined)?.keys;
  return Array.isArray(keys) ? (keys.filter((k) => k !== null && typeof k === 'object') as JWK[]) : [];
}

/** HS256 with the bytes of a public key as the secret (RFC 8725 §2.1): its JWK JSON, and its SPKI PEM. */
async function confusionVariants(
  claims: Record<string, unknown>,
  header: Record<string, unknown>,
  key: JWK,
): Promise<[string, string][]> {
  const sign = (secret: string) =>
    new SignJWT(claims)
      .setProtectedHeader({ ...header, alg: 'HS256' })
      .sign(new TextEncoder().encode(secret));
  const out: [string, string][] = [
    [`HS256 keyed with the published JWK (kid ${String(key.kid)}) as JSON`, await sign(JSON.stringify(key))],
  ];
  if (key.kty === 'EC' || key.kty === 'RSA' || key.kty === 'OKP') {
    try {
      const alg = key.alg ?? (key.kty === 'RSA' ? 'RS256' : key.kty === 'OKP' ? 'EdDSA' : 'ES256');
      const pem = await exportSPKI((await importJWK({ ...key, ext: true }, alg)) as CryptoKey);
      out.push([`HS256 keyed with the published key (kid ${String(key.kid)}) as SPKI PEM`, await sign(pem)]);
    } catch {
      // a key jose cannot import: the JSON variant above is still sent
    }
  }
  return out;
}

export const RS_401_12 = defineCheck({
  id: 'RS-401-12',
  title: 'A JWT signed with a key the authorization server did not publish gets 401',
  level: 'MUST',
  refs: [
    'RFC9068 §4 ("MUST use the keys provided by the authorization server")',
    'RFC8725 §2.1',
    'RFC8725 §3.1',
  ],
  quotes: [
    ...INVALID_TOKENS_GET_401,
    {
      source: 'RFC 9068',
      section: '4',
      text: 'The resource server MUST use the keys provided by the authorization server.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['token'],
  faults: ['rs-signature-not-checked', 'rs-embedded-jwk-accepted', 'rs-algorithm-confusion'],
  requirement:
    "The real token's claims signed with a key the authorization server does not publish are refused with 401: a fresh ES256 key under the trusted kid and under another kid, the same key announced in an embedded `jwk` header, and HS256 keyed with the bytes of the server's own public key (algorithm confusion, as JWK JSON and as PEM, using the keys at jwks_uri). Embedded `jku`/`x5u` headers are not sent: the harness never invites a target to fetch a URL.",
  remediation:
    "Resolve the verification key only from the authorization server's jwks_uri (by kid), pin the algorithms to those keys, and ignore `jwk`, `jku` and `x5u` headers in tokens.",
  probe:
    'POST the protected request with the real claims re-signed by a foreign ES256 key (same kid, other kid, embedded jwk) and by HS256 with the public key bytes.',
  control:
    'The same request with the real access token, signed by the authorization server, right before and right after: served, it shows the refusal was about the foreign key.',
  async run(t) {
    const { token, control } = await realTokenControl(t);
    const parts = decodeJwtParts(token);
    if (!parts) {
      t.notApplicable(
        'the access token is opaque, not a JWT: there is no signature to forge with another key',
      );
      return;
    }
    const { header, claims } = parts;
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const foreignJwk = await exportJWK(publicKey);
    const signForeign = (h: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ ...header, ...h, alg: 'ES256' }).sign(privateKey);
    const variants: [string, string][] = [
      ['a foreign ES256 key under the trusted kid', await signForeign({})],
      [
        'a foreign ES256 key under an unknown kid',
        await signForeign({ kid: 'mcp-auth-conformance-foreign' }),
      ],
      ['a foreign ES256 key announced in an embedded jwk header', await signForeign({ jwk: foreignJwk })],
    ];
    const keys = await publishedKeys(t);
    for (const key of keys.slice(0, 2)) variants.push(...(await confusionVariants(claims, header, key)));
    if (keys.length === 0)
      t.note('no keys were found at jwks_uri, so the algorithm-confusion variants were not sent');
    const outcomes = await underControl(t, control, () =>
      Promise.all(variants.map(([probe, v]) => presentToken(t, v, probe))),
    );
    if (outcomes)
      judgeAllRefused(t, outcomes, 'tokens signed with keys the authorization server did not publish');
  },
});

export const RS_401_13 = defineCheck({
  id: 'RS-401-13',
  title: 'A token from another issuer gets 401',
  level: 'MUST',
  refs: ['RFC9068 §4 (iss exact)', 'MCP 2025-06-18 §Token Handling ("MUST NOT accept … any other tokens")'],
  quotes: [
    ...NO_OTHER_TOKENS,
    JWT_VALIDATION_INTRO,
    {
      source: 'RFC 9068',
      section: '4',
      text: 'The issuer identifier for the authorization server (which is typically obtained during discovery) MUST exactly match the value of the "iss" claim.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['minter'],
  faults: ['rs-issuer-not-checked'],
  requirement:
    'A token signed with the trusted key and for this resource, but whose `iss` is not exactly the authorization server the resource trusts (another origin; the same issuer with a trailing slash) is refused with 401.',
  remediation:
    'Compare `iss` with the trusted issuer identifier exactly (RFC 9068 §4: code-point equality, no normalization) and answer 401 on a mismatch.',
  probe:
    'POST the protected request with forged tokens whose iss is https://issuer.invalid and the issuer + "/".',
  control:
    'The same request with a correctly forged token carrying the trusted issuer, right before and right after: served, it shows the refusal was about `iss`.',
  async run(t) {
    const f = await forger(t);
    const issuer = f.minter.issuer;
    const variants: [string, string][] = [
      ['iss of another authorization server (https://issuer.invalid)', 'https://issuer.invalid'],
      [`iss with a trailing slash (${issuer}/)`, `${issuer}/`],
    ];
    const tokens = await Promise.all(variants.map(([, iss]) => f.mint({ claims: { iss } })));
    const outcomes = await underControl(t, f.control, () =>
      Promise.all(variants.map(([probe], i) => presentToken(t, tokens[i]!, probe))),
    );
    if (outcomes) judgeAllRefused(t, outcomes, 'tokens of another issuer');
  },
});

export const RS_401_14 = defineCheck({
  id: 'RS-401-14',
  title: 'A JWT that is not an access token (an ID token) gets 401',
  level: 'MUST',
  refs: ['RFC9068 §4 (typ)', 'RFC9068 §5 (token confusion)', 'RFC8725 §3.11'],
  quotes: [
    ...ONLY_OWN_AUDIENCE,
    {
      source: 'RFC 9068',
      section: '4',
      text: 'The resource server MUST verify that the "typ" header value is "at+jwt" or "application/at+jwt" and reject tokens carrying any other value.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: [],
  faults: ['rs-typ-not-checked'],
  requirement:
    'An OpenID Connect ID token presented as a Bearer token is refused with 401: the real one when the flow returned one, else a forged one (typ JWT, aud = the client_id). When the resource\'s own access tokens are RFC 9068 tokens (typ at+jwt), a token identical to a valid one except typ "JWT" is refused too (RFC 9068 §4 typ check); for other token formats that probe is only recorded.',
  remediation:
    'Accept only access tokens: require typ "at+jwt" (RFC 9068 §4) and an `aud` naming this resource; never accept ID tokens.',
  probe:
    'POST the protected request with an ID token (real or forged) and with a forged at+jwt whose typ is "JWT".',
  control:
    'For the real ID token, the same request with the access token of the same flow; for the forged ID token and typ "JWT", the same request with a correctly forged access token; each right before and right after: served, it shows the refusal was about the kind of token.',
  async run(t) {
    const tokens = await t.optionalFixture('token');
    const minter = await t.optionalFixture('minter');
    const realIdToken = typeof tokens?.raw.id_token === 'string' ? tokens.raw.id_token : undefined;
    if (!realIdToken && !minter) {
      t.notApplicable(
        'the authorization server returned no ID token and the harness holds no key to forge one (pass --mint-key FILE and --mint-issuer URL)',
      );
      return;
    }
    const mustRefuse: TokenOutcome[] = [];
    // The real ID token: its control is the access token of the same flow.
    if (realIdToken && tokens) {
      const control = tokenControl(
        t,
        tokens.accessToken,
        "the same request with the harness's access token",
        'make sure the authorization flow yields a token this endpoint accepts',
      );
      const real = await underControl(
        t,
        control,
        async () => [await presentToken(t, realIdToken, 'the ID token of the authorization flow')],
        minter ? { key: 'controlRealToken', group: 'the real ID token' } : {},
      );
      if (!real && !minter) return;
      mustRefuse.push(...(real ?? []));
    }
    // Forged tokens: their control is a correctly forged access token.
    let typOnly: TokenOutcome | undefined;
    if (minter) {
      const f = await forger(t);
      const now = nowSeconds();
      const idToken = await f.mint({
        header: { typ: 'JWT' },
        claims: {
          aud: 'mcp-auth-conformance',
          azp: 'mcp-auth-conformance',
          auth_time: now,
          nonce: 'n-0S6_WzA2Mj',
        },
        omit: ['client_id', 'scope'],
      });
      const typJwt = await f.mint({ header: { typ: 'JWT' } });
      const forged = await underControl(
        t,
        f.control,
        () =>
          Promise.all([
            presentToken(t, idToken, 'a forged ID token (typ JWT, aud = client_id)'),
            presentToken(t, typJwt, 'a valid token with typ "JWT" instead of "at+jwt"'),
          ]),
        mustRefuse.length > 0 ? { group: 'the forged tokens' } : {},
      );
      if (!forged && mustRefuse.length === 0) return;
      if (forged) {
        mustRefuse.push(forged[0]);
        typOnly = forged[1];
      }
    }
    const realTyp = tokens ? decodeJwtParts(tokens.accessToken)?.header.typ : undefined;
    const profile9068 = typeof realTyp === 'string' && /^(application\/)?at\+jwt$/i.test(realTyp);
    t.data('accessTokenTyp', realTyp ?? null);
    const outcomes = [...mustRefuse];
    if (typOnly && profile9068) outcomes.push(typOnly);
    else if (typOnly) {
      t.data('typJwtProbe', outcomeRow(typOnly));
      t.note(
        `the real access tokens are not typ at+jwt (${String(realTyp ?? 'opaque or unknown')}), so the typ-only probe is recorded, not judged: HTTP ${typOnly.status}`,
      );
    }
    judgeAllRefused(t, outcomes, 'tokens that are not access tokens');
  },
});

export const RS_401_15 = defineCheck({
  id: 'RS-401-15',
  title: 'A token that is not valid yet (nbf in the future) gets 401',
  level: 'MUST',
  refs: ['RFC7519 §4.1.5', TOKEN_HANDLING],
  quotes: [
    ...INVALID_TOKENS_GET_401,
    {
      source: 'RFC 7519',
      section: '4.1.5',
      text: 'The processing of the "nbf" claim requires that the current date/time MUST be after or equal to the not-before date/time listed in the "nbf" claim.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['minter'],
  faults: ['rs-nbf-ignored'],
  requirement:
    'A token that is valid in every respect except that its `nbf` is one hour in the future is refused with 401.',
  remediation: 'When a token carries `nbf`, refuse it before that time (a small clock tolerance is fine).',
  probe: 'POST the protected request with a forged token whose nbf = now + 3600 s (exp = now + 7200 s).',
  control:
    'The same request with a correctly forged token without the future `nbf`, right before and right after: served, it shows the refusal was about `nbf`.',
  async run(t) {
    const f = await forger(t);
    const now = nowSeconds();
    const token = await f.mint({ claims: { nbf: now + 3600, exp: now + 7200 } });
    const outcomes = await underControl(t, f.control, async () => [
      await presentToken(t, token, 'a token whose nbf is 3600 s ahead'),
    ]);
    if (outcomes) judgeAllRefused(t, outcomes, 'the not-yet-valid token');
  },
});

export const RS_401_16 = defineCheck({
  id: 'RS-401-16',
  title: 'A token in the URI query is not accepted',
  level: 'MUST',
  refs: [
    'OAuth 2.1 draft-13 §5.1 ("resource servers MUST ignore access tokens in a URI query parameter")',
    'MCP 2025-06-18 §Token Requirements (MUST NOT be included in the URI query string)',
  ],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '5.1',
      text: 'In particular, clients MUST NOT send the access token in a URI query parameter, and resource servers MUST ignore access tokens in a URI query parameter.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
    ...inMcp(REVISIONS, {
      section: 'Token Requirements',
      text: 'Access tokens MUST NOT be included in the URI query string',
      keyword: 'MUST NOT',
      binds: 'client',
    }),
  ],
  revisions: REVISIONS,
  needs: ['token'],
  faults: ['rs-query-token-accepted'],
  requirement:
    'A request that carries a valid access token only in `?access_token=` (no Authorization header) is treated as carrying no credentials: it is refused (401), never served.',
  remediation:
    'Read the access token from the Authorization header only; ignore `access_token` in the query.',
  probe: 'POST the protected request to <endpoint>?access_token=<valid token> with no Authorization header.',
  control:
    'The same request with the same token in the Authorization header, right before and right after the query-only one: served, it shows the token is good and only its place differs. (The check first makes sure the request is refused without any token.)',
  async run(t) {
    if (!(await probeNeedsToken(t))) return;
    const { token, control } = await realTokenControl(t);
    const url = new URL(t.target);
    url.searchParams.set('access_token', token);
    const outcomes = await underControl(t, control, async () => [
      await presentToken(t, undefined, 'the valid token in ?access_token= and no header', { url: url.href }),
    ]);
    if (!outcomes) return;
    const o = outcomes[0]!;
    t.data('probes', [outcomeRow(o)]);
    if (o.accepted) {
      t.violated(`the request with the token only in the query was served (HTTP ${o.status})`, {
        exchanges: [o.exchange],
      });
      return;
    }
    if (o.status !== 401)
      t.note(`the request was refused with ${o.status}; a request without credentials normally gets 401`);
    t.conforms(`the token in the query was ignored (HTTP ${o.status})`);
  },
});

export const RS_401_17 = defineCheck({
  id: 'RS-401-17',
  title: 'The Bearer scheme name is case-insensitive',
  level: 'MUST',
  refs: ['OAuth 2.1 draft-13 §5.1.1', 'RFC9110 §11.1', 'RFC6750 §2.1'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '5.1.1',
      text: 'Resource servers MUST support this method.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '5.1.1',
      text: 'As described in Section 11.1 of [RFC9110], the string bearer is case-insensitive.',
      binds: 'context',
    },
  ],
  revisions: REVISIONS,
  needs: ['token'],
  faults: ['rs-scheme-case-sensitive'],
  requirement:
    'A valid token is accepted whatever the case of the scheme name: `bearer`, `BEARER`, `bEaReR`.',
  remediation: 'Compare the authentication scheme case-insensitively (RFC 9110 §11.1).',
  probe: 'POST the protected request with `Authorization: bearer|BEARER|bEaReR <valid token>`.',
  control:
    "The same request with the same token under the scheme spelled `Bearer`, right before and right after: served, it shows a refused `bearer`/`BEARER` is about the scheme's case only.",
  async run(t) {
    if (!(await probeValidatesTokens(t))) return;
    const { token, control } = await realTokenControl(t);
    // The control (`Bearer <token>`, before and after) shows the token itself is accepted, so a
    // refusal of another casing can only be about the scheme name.
    const outcomes = await underControl(t, control, () =>
      Promise.all(
        ['bearer', 'BEARER', 'bEaReR'].map((scheme) =>
          presentToken(t, undefined, `scheme "${scheme}"`, { authorization: [`${scheme} ${token}`] }),
        ),
      ),
    );
    if (!outcomes) return;
    t.data('probes', outcomes.map(outcomeRow));
    const refused = outcomes.filter((o) => !o.accepted);
    for (const o of refused)
      t.violated(`the valid token with ${o.probe} was refused (HTTP ${o.status})`, {
        exchanges: [o.exchange],
      });
    if (refused.length === 0) t.conforms('the valid token was accepted with bearer, BEARER and bEaReR');
  },
});

export const RS_401_18 = defineCheck({
  id: 'RS-401-18',
  title: 'Credentials of another scheme, or Bearer with no token, get a 401 Bearer challenge',
  level: 'MUST',
  refs: ['RFC6750 §3', 'RFC9110 §11.6.1', 'RFC6750 §3.1 (invalid_request)'],
  quotes: [
    ...STATUS_CODES,
    CHALLENGE_ON_REFUSAL,
    BEARER_SCHEME,
    {
      source: 'RFC 6750',
      section: '3.1',
      text: 'If the request lacks any authentication information (e.g., the client was unaware that authentication is necessary or attempted using an unsupported authentication method), the resource server SHOULD NOT include an error code or other error information.',
      binds: 'context',
    },
  ],
  revisions: REVISIONS,
  needs: [],
  faults: ['rs-non-bearer-400'],
  requirement:
    'A request with credentials of another scheme (`Basic dXNlcjpwYXNz`, `Token x`) is answered 401 with a Bearer challenge, so the client learns how to authenticate. `Bearer` with no token may instead get 400 invalid_request (a malformed credential).',
  remediation:
    'Treat a request whose Authorization is not Bearer as unauthenticated: 401 with `WWW-Authenticate: Bearer resource_metadata="…"`.',
  probe: 'POST the protected request with `Basic dXNlcjpwYXNz`, `Token x` and a bare `Bearer`.',
  control:
    "The same request with a token the target accepts (the harness's, else a correctly forged one) as `Bearer <token>`, right before and right after: served, it shows each refusal was about the other scheme or the empty credential.",
  async run(t) {
    if (!(await probeNeedsToken(t))) return;
    const { control } = await validTokenControl(t);
    const probes: [string, string, boolean][] = [
      ['Basic credentials', 'Basic dXNlcjpwYXNz', false],
      ['Token credentials', 'Token x', false],
      ['Bearer with no token', 'Bearer', true],
    ];
    const replies = await underControl(t, control, () =>
      Promise.all(
        probes.map(([probe, line]) =>
          presentToken(t, undefined, probe, { authorization: [line] }).then((o) => ({ o, probe })),
        ),
      ),
    );
    if (!replies) return;
    t.data(
      'probes',
      replies.map(({ o }) => outcomeRow(o)),
    );
    let ok = 0;
    for (const [i, { o }] of replies.entries()) {
      const evidence = { exchanges: [o.exchange] };
      const malformedAllowed = probes[i]![2];
      if (o.accepted) t.violated(`${o.probe}: served (HTTP ${o.status}) without a Bearer token`, evidence);
      else if (o.status === 401 && !o.hasBearer && o.schemes.length > 0)
        // A challenge of another scheme (DPoP, RFC 9449) is one "applicable to the target resource"
        // (RFC 9110 §11.6.1), and RFC 6750 §3's "MUST use Bearer" covers only its own challenges;
        // but MCP clients send Bearer tokens, and only a Bearer challenge tells them how (derived).
        t.violated(
          `${o.probe}: 401 with a ${[...new Set(o.schemes)].join(', ')} challenge but no Bearer challenge: an MCP client, which sends Bearer tokens, learns nothing it can use`,
          { ...evidence, level: 'SHOULD' },
        );
      else if (o.status === 401 && !o.hasBearer)
        t.violated(`${o.probe}: 401 without any WWW-Authenticate challenge`, evidence);
      else if (o.status === 401) ok++;
      else if (
        malformedAllowed &&
        o.status === 400 &&
        (o.challengeError ?? o.bodyError) === 'invalid_request'
      )
        ok++;
      else t.violated(`${o.probe}: answered ${o.status}, not 401 with a Bearer challenge`, evidence);
    }
    if (ok === replies.length)
      t.conforms(
        'every non-Bearer or empty credential got 401 with a Bearer challenge (or 400 invalid_request)',
      );
  },
});

export const RS_401_19 = defineCheck({
  id: 'RS-401-19',
  title: 'Two Authorization headers are refused with 400 invalid_request',
  level: 'SHOULD',
  refs: ['RFC6750 §3.1 (invalid_request: more than one method)', 'OAuth 2.1 draft-13 §5.1'],
  quotes: [
    {
      source: 'RFC 6750',
      section: '3.1',
      text: 'The request is missing a required parameter, includes an unsupported parameter or parameter value, repeats the same parameter, uses more than one method for including an access token, or is otherwise malformed.',
      binds: 'context',
    },
    {
      source: 'RFC 6750',
      section: '3.1',
      text: 'The resource server SHOULD respond with the HTTP 400 (Bad Request) status code.',
      keyword: 'SHOULD',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['token'],
  faults: ['rs-duplicate-authorization-first-wins'],
  requirement:
    'A request with two Authorization header lines (a valid and an invalid token, in both orders) is refused with 400 invalid_request rather than authenticated with either line. Also sent: an invalid header token with the valid token in the query, which must never be served (that is also RS-401-16); a valid header with a junk query token is only recorded (OAuth 2.1 says ignore the query, RFC 6750 says 400).',
  remediation:
    'Refuse requests carrying more than one Authorization header (or token method) with 400 invalid_request.',
  probe:
    'POST the protected request with two Authorization lines (valid+invalid, invalid+valid), and header+query combinations.',
  control:
    'The same request with the valid token in one Authorization header, right before and right after: served, it shows the refusal of the duplicate lines is about the duplication.',
  async run(t) {
    if (!(await probeNeedsToken(t))) return;
    const { token, control } = await realTokenControl(t);
    const bad = 'mcp-auth-conformance-invalid-token';
    const withQuery = (value: string) => {
      const url = new URL(t.target);
      url.searchParams.set('access_token', value);
      return url.href;
    };
    const outcomes = await underControl(t, control, () =>
      Promise.all([
        presentToken(t, undefined, 'two Authorization lines: valid, then invalid', {
          authorization: [`Bearer ${token}`, `Bearer ${bad}`],
        }),
        presentToken(t, undefined, 'two Authorization lines: invalid, then valid', {
          authorization: [`Bearer ${bad}`, `Bearer ${token}`],
        }),
        presentToken(t, bad, 'an invalid header token with the valid token in the query', {
          url: withQuery(token),
        }),
        presentToken(t, token, 'a valid header token with a junk token in the query', {
          url: withQuery(bad),
        }),
      ]),
    );
    if (!outcomes) return;
    const [validFirst, invalidFirst, queryHonoured, queryIgnored] = outcomes as [
      TokenOutcome,
      TokenOutcome,
      TokenOutcome,
      TokenOutcome,
    ];
    t.data('probes', [validFirst, invalidFirst, queryHonoured, queryIgnored].map(outcomeRow));
    t.data('headerPlusQuery', `HTTP ${queryIgnored.status} (recorded only)`);
    let ok = 0;
    for (const o of [validFirst, invalidFirst]) {
      const evidence = { exchanges: [o.exchange] };
      if (o.accepted)
        t.violated(`${o.probe}: authenticated with one of the lines (HTTP ${o.status})`, evidence);
      else if (o.status === 400 && (o.challengeError ?? o.bodyError) === 'invalid_request') ok++;
      else t.violated(`${o.probe}: answered ${o.status}, not 400 invalid_request`, evidence);
    }
    if (queryHonoured.accepted)
      t.violated(
        `${queryHonoured.probe}: served (HTTP ${queryHonoured.status}), so the query token was used`,
        {
          exchanges: [queryHonoured.exchange],
        },
      );
    else ok++;
    if (ok === 3)
      t.conforms(
        'duplicate Authorization lines were refused with 400 invalid_request; the query token was never used',
      );
  },
});

/**
 * A JSON-RPC notification of the revision (2026-07-28 has no initialize, so no
 * notifications/initialized). `notifications/initialized` is the second half of the 2025 handshake
 * ("After successful initialization, the client MUST send an initialized notification", MCP
 * 2025-11-25 §Lifecycle), so a server whose handshake is public (declared with --expect-public, or
 * seen answering initialize without a token) may take it without a token too: then the probe is a
 * notification outside the handshake.
 */
function tokenlessNotification(
  session: McpSession | undefined,
  revision: CheckContext['revision'],
  publicHandshake: boolean,
) {
  if (isStateless(revision) || publicHandshake) {
    return {
      method: 'notifications/cancelled',
      params: { requestId: 1, reason: 'conformance probe' },
      id: null,
      ...(session ? { session } : {}),
    };
  }
  return { method: 'notifications/initialized', id: null, ...(session ? { session } : {}) };
}

export const RS_401_20 = defineCheck({
  id: 'RS-401-20',
  title: 'No request on the MCP endpoint is served without a token, whatever its kind',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 §Token Requirements ("MUST be included in every HTTP request … even if they are part of the same logical session")',
    'MCP Security Best Practices ("MUST verify all inbound requests")',
  ],
  quotes: [
    ...VERIFY_ALL_INBOUND,
    ...inMcp(['2025-06-18', '2025-11-25'], {
      section: 'Security Best Practices: Session Hijacking',
      text: 'MCP Servers MUST NOT use sessions for authentication.',
      keyword: 'MUST NOT',
      binds: 'resource-server',
    }),
    ...inMcp(['2025-06-18', '2025-11-25'], {
      section: 'Token Requirements',
      text: 'Note that authorization MUST be included in every HTTP request from client to server, even if they are part of the same logical session.',
      keyword: 'MUST',
      binds: 'client',
    }),
  ],
  revisions: REVISIONS,
  needs: ['token'],
  faults: ['rs-notifications-unauthenticated'],
  requirement:
    'Once a client has authenticated, every later request still needs the token: without it, a notification, a follow-up request (tools/list, or the method the token checks probe on when the target serves tools/list to anyone), a GET for the SSE stream and a DELETE of the session (2025-*: with the session id the token opened) are not served (401; 405 is also fine for GET and DELETE).',
  remediation:
    'Authenticate every HTTP request on the MCP endpoint, notifications and session requests included; never treat a session id as authentication.',
  probe:
    'Open a session with the token (2025-*), then without a token: a notification, tools/list (or the fallback probe method), GET (Accept: text/event-stream), DELETE.',
  control:
    'For the notification and the JSON-RPC request, the same request with the token in the same session, right before and right after; for GET and DELETE, the same method with the token: a refusal without the token is judged only where the request with it is served.',
  async run(t) {
    const token = (await t.fixture('token')).accessToken;
    if (!(await probeNeedsToken(t))) return;
    let session: McpSession | undefined;
    if (!isStateless(t.revision)) {
      session = await openSessionOrSkip(t, token);
      if (!session) return;
      t.data('sessionIssued', session.sessionId !== undefined);
    }
    const headers: [string, string][] = [['mcp-protocol-version', session?.protocolVersion ?? t.revision]];
    if (session?.sessionId) headers.push(['mcp-session-id', session.sessionId]);
    const { publicDefault } = await t.fixture('protected-request');
    const publicHandshake =
      publicDefault?.answered.includes('initialize') === true ||
      t.options.expectPublic.some((m) => m === 'initialize' || m === 'notifications/initialized');
    // The follow-up is tools/list, unless the target serves that to anyone (a public method proves
    // nothing about sessions): then the method the token checks probe on.
    const followUpMethod =
      publicDefault?.answered.includes('tools/list') && publicDefault.fallback
        ? publicDefault.fallback
        : 'tools/list';
    const followUp = (withToken: boolean, label: string) =>
      mcpCall(t.http, t.target, t.revision, {
        method: followUpMethod,
        params: {},
        ...(session ? { session } : {}),
        ...(withToken ? { token } : {}),
        label,
      });
    // Control of the JSON-RPC probes: the same follow-up with the token, in the same session.
    const control = {
      what: `${followUpMethod} with the token in the same session`,
      howToProvide:
        'make sure the token the harness obtained is accepted by this endpoint (--token-env NAME)',
      send: async (when: 'before' | 'after') =>
        replyOutcome(
          (await followUp(true, `${followUpMethod} with the token (control, ${when} the probes)`)).response,
        ),
    };
    const jsonRpc = await underControl(t, control, () =>
      Promise.all([
        mcpCall(t.http, t.target, t.revision, {
          ...tokenlessNotification(session, t.revision, publicHandshake),
          label: 'a notification without a token',
        }),
        followUp(false, `${followUpMethod} without a token`),
      ]),
    );
    if (!jsonRpc) return;
    const [notification, tokenless] = jsonRpc;
    // GET and DELETE: each with its own control, the same method with the token (a server that
    // offers no GET stream or no DELETE refuses both, and then there is nothing to judge).
    const get = async (withToken: boolean) => rawOutcome(t, 'GET', withToken ? token : undefined, headers);
    const getWithout = await get(false);
    const getWith = await get(true);
    // DELETE last: if it is (wrongly) served, it ends the session; the token's DELETE ends it anyway.
    const delWithout = await rawOutcome(t, 'DELETE', undefined, headers);
    const delWith = await rawOutcome(t, 'DELETE', token, headers);
    const rows: [TokenOutcome, boolean][] = [
      [outcomeOf('a notification without a token', notification.response), false],
      [outcomeOf(`${followUpMethod} without a token`, tokenless.response), false],
    ];
    t.data('probes', [
      ...rows.map(([o]) => outcomeRow(o)),
      { probe: 'GET without a token', status: getWithout.status, controlWithToken: getWith.status },
      { probe: 'DELETE without a token', status: delWithout.status, controlWithToken: delWith.status },
    ]);
    let ok = 0;
    let judged = 0;
    for (const [o] of rows) {
      judged++;
      if (o.accepted) t.violated(`${o.probe}: served (HTTP ${o.status})`, { exchanges: [o.exchange] });
      else {
        ok++;
        if (o.status !== 401) t.note(`${o.probe}: refused with ${o.status} (401 expected)`);
      }
    }
    for (const [method, without, withToken] of [
      ['GET', getWithout, getWith],
      ['DELETE', delWithout, delWith],
    ] as const) {
      if (without.ok) {
        judged++;
        t.violated(`${method} without a token: served (${without.describe})`, {
          ...(without.exchange ? { exchanges: [without.exchange] } : {}),
        });
      } else if (!withToken.ok) {
        t.note(
          `${method}: not offered here (with the token too: ${withToken.describe}), so there is nothing to serve without one`,
        );
      } else {
        judged++;
        ok++;
        if (without.status !== 401 && without.status !== 405)
          t.note(`${method} without a token: refused with ${without.describe} (401 or 405 expected)`);
      }
    }
    if (ok === judged)
      t.conforms(`no request was served without a token after authentication (${judged} judged)`);
  },
});

/**
 * GET (Accept: text/event-stream) or DELETE on the endpoint. Served = 2xx, or a stream whose
 * headers arrived and whose body the bound cut (an SSE stream that stays open).
 */
async function rawOutcome(
  t: CheckContext,
  method: 'GET' | 'DELETE',
  token: string | undefined,
  headers: [string, string][],
): Promise<ControlOutcome> {
  const label = `${method}${method === 'GET' ? ' (SSE stream)' : ' (end the session)'} ${token ? 'with' : 'without'} a token`;
  try {
    const response = await t.http.request(t.target, {
      method,
      headers: [
        ...(method === 'GET' ? ([['accept', 'text/event-stream']] as [string, string][]) : []),
        ...headers,
        ...(token ? ([['authorization', `Bearer ${token}`]] as [string, string][]) : []),
      ],
      label,
      // An SSE stream stays open: its status and headers come at once, 1.5 s is plenty.
      timeoutMs: Math.min(t.options.requestTimeoutMs, 1_500),
      maxBodyBytes: 64 * 1024,
    });
    return replyOutcome(response);
  } catch (err) {
    if (
      err instanceof HttpTransportError &&
      err.response &&
      (err.kind === 'timeout' || err.kind === 'too-large')
    ) {
      const status = err.response.status;
      return {
        ok: status >= 200 && status <= 299,
        status,
        ...(err.exchangeId ? { exchange: err.exchangeId } : {}),
        describe: `HTTP ${status} (a stream the harness stopped reading)`,
      };
    }
    throw err;
  }
}

export const RS_401_21 = defineCheck({
  id: 'RS-401-21',
  title: 'A revoked access token is refused (when the resource can know)',
  level: 'MUST',
  refs: [TOKEN_HANDLING, 'RFC7009 §2', 'RFC7009 §2.1'],
  quotes: [
    ...INVALID_TOKENS_GET_401,
    {
      source: 'RFC 6750',
      section: '3.1',
      text: 'The access token provided is expired, revoked, malformed, or invalid for other reasons.',
      binds: 'context',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'own-client'],
  // The default reference resource server verifies self-contained JWTs (this check reports info
  // there); with the variant opaque-tokens it introspects, and this fault makes it cache the answer.
  faults: ['rs-introspection-cached'],
  requirement:
    'After the access token is revoked at the revocation_endpoint, the resource refuses it with 401. Applies when the resource can know about revocation: an opaque (reference) token must be refused; a self-contained JWT still accepted is recorded as info ("revocation not observable until expiry"), not failed. Against the default reference server (self-contained JWTs) it reports info; the fault matrix proves it red with the variant opaque-tokens (the resource server introspects) and the fault rs-introspection-cached.',
  remediation:
    'Have the resource server look tokens up (introspection, RFC 7662, or a shared store) so that revoked tokens stop working, or keep JWT lifetimes short.',
  probe: 'Fresh grant; revoke its access token (RFC 7009); POST the protected request with it.',
  control:
    'The same fresh access token on the same request before its revocation: served then, it shows the refusal after revocation is about the revocation.',
  async run(t) {
    const as = authorizationServerOf(await t.fixture('as'));
    if (typeof as.metadata.revocation_endpoint !== 'string') {
      t.notApplicable('the authorization server advertises no revocation_endpoint (RFC 8414 §2)');
      return;
    }
    const grant = await t.freshGrant();
    const before = await presentToken(
      t,
      grant.tokens.accessToken,
      'the fresh access token before revocation',
    );
    if (!before.accepted) {
      // The control: the same request with the same token, before its revocation.
      t.data('control', { what: 'the fresh access token before revocation', before: outcomeRow(before) });
      t.prerequisiteMissing(
        `control failed: the fresh access token is refused before revocation (${describeOutcome(before)}), so its refusal after revocation would prove nothing`,
        'make sure the authorization flow yields a token this endpoint accepts',
      );
      return;
    }
    // The control: the same token on the same request, served before the one change (revocation).
    controlHeld(t);
    const revoked = await revokeToken(t.http, as, grant.client, {
      token: grant.tokens.accessToken,
      hint: 'access_token',
    });
    t.data('revocationStatus', revoked.status);
    if (revoked.status !== 200) {
      t.notApplicable(`the revocation request was answered ${revoked.status}, not 200 (see AS-REVOKE-*)`);
      return;
    }
    const after = await presentToken(t, grant.tokens.accessToken, 'the access token after revocation');
    t.data('probes', [outcomeRow(before), outcomeRow(after)]);
    if (!after.accepted) {
      if (judgeRefusal(t, after)) t.conforms('the revoked access token was refused with 401');
      return;
    }
    if (decodeJwtParts(grant.tokens.accessToken)) {
      t.observe(
        'the revoked access token is still accepted: it is a self-contained JWT, so revocation is not observable at the resource until it expires',
      );
    } else {
      t.violated(
        `the revoked opaque access token is still accepted (HTTP ${after.status}): a reference token must be looked up`,
        { exchanges: [after.exchange] },
      );
    }
  },
});

export const RS_401_22 = defineCheck({
  id: 'RS-401-22',
  title: 'Every token-validity failure is a 401, never a 403, 400 or 5xx',
  level: 'MUST',
  refs: [TOKEN_HANDLING, 'OAuth 2.1 draft-13 §5.3', 'RFC6750 §3.1', 'requirements §3 A8'],
  quotes: [
    ...INVALID_TOKENS_GET_401,
    {
      source: 'RFC 9068',
      section: '4',
      text: 'The resource server MUST handle errors as described in Section 3.1 of [RFC6750].',
      keyword: 'MUST',
      binds: 'resource-server',
    },
    INVALID_TOKEN_STATUS,
  ],
  revisions: REVISIONS,
  needs: [],
  faults: ['rs-bad-token-403'],
  requirement:
    'Across the kinds of well-formed invalid token (a real token whose signature no longer verifies, and with a key: expired, wrong issuer, wrong audience), the status is always 401 invalid_token: 403 is reserved for insufficient_scope, and a server error is never an answer to bad input. This check owns the status of those refusals: the RS-401/RS-AUD checks of each kind judge whether it is refused at all and point here for a wrong status (malformed tokens: RS-401-08). Its own quick probe set, one per kind, each group between two controls with a valid token of its kind.',
  remediation:
    'Map every token verification failure to 401 with error="invalid_token"; reserve 403 for insufficient_scope.',
  probe:
    'POST the protected request once per kind of invalid token, between controls with the valid real (or forged) token, and compare the statuses.',
  control:
    'The same request with the untouched real token (for the broken signature) and with a correctly forged token (for the forged kinds), right before and right after each group: a status is judged only in a group whose control was served.',
  async run(t) {
    const outcomes: TokenOutcome[] = [];
    const tokens = await t.optionalFixture('token');
    const minter = await t.optionalFixture('minter');
    if (!tokens && !minter) {
      // Neither a real token nor a key: the reason of the token fixture ends the check.
      await t.fixture('token');
      return;
    }
    if (tokens) {
      const { control } = await realTokenControl(t);
      const real = await underControl(
        t,
        control,
        async () => [
          await presentToken(t, tamperPayload(tokens.accessToken), 'a token with a broken signature'),
        ],
        minter ? { key: 'controlRealToken', group: 'the real token with a broken signature' } : {},
      );
      if (!real && !minter) return;
      outcomes.push(...(real ?? []));
    }
    if (minter) {
      const f = await forger(t);
      const now = nowSeconds();
      const kinds: [string, Record<string, unknown>][] = [
        ['an expired token', { iat: now - 900, exp: now - 600 }],
        ['a token of another issuer', { iss: 'https://issuer.invalid' }],
        ['a token for another resource', { aud: 'https://other.example/mcp' }],
      ];
      const forged = await Promise.all(kinds.map(([, claims]) => f.mint({ claims })));
      const judged = await underControl(
        t,
        f.control,
        () => Promise.all(kinds.map(([probe], i) => presentToken(t, forged[i]!, probe))),
        outcomes.length > 0 ? { group: 'the forged kinds' } : {},
      );
      if (!judged && outcomes.length === 0) return;
      outcomes.push(...(judged ?? []));
    } else t.note('no key to forge tokens: expired, wrong-issuer and wrong-audience kinds were not sent');
    t.data('probes', outcomes.map(outcomeRow));
    const accepted = outcomes.filter((o) => o.accepted);
    if (accepted.length > 0)
      t.note(`accepted (judged by their own checks, not here): ${accepted.map((o) => o.probe).join('; ')}`);
    const wrong = outcomes.filter((o) => !o.accepted && o.status !== 401);
    for (const o of wrong)
      t.violated(`${o.probe}: answered ${o.status}${o.status >= 500 ? ' (server error)' : ''}, not 401`, {
        exchanges: [o.exchange],
      });
    if (wrong.length === 0) {
      const refused = outcomes.length - accepted.length;
      if (refused === 0)
        t.notApplicable('no invalid token was refused, so no failure status could be compared');
      else t.conforms(`all ${refused} refused invalid tokens got 401`);
    }
  },
});

export const checks = [
  RS_401_08,
  RS_401_09,
  RS_401_10,
  RS_401_11,
  RS_401_12,
  RS_401_13,
  RS_401_14,
  RS_401_15,
  RS_401_16,
  RS_401_17,
  RS_401_18,
  RS_401_19,
  RS_401_20,
  RS_401_21,
  RS_401_22,
];
