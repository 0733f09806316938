// AS — Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-00, "CIMD";
// MCP 2025-11-25 §Client ID Metadata Documents). Requirements §2.11, rows AS-CIMD-*.
//
// The harness hosts the documents itself (runner/cimd-host.ts): on a loopback http listener it
// starts for each check, or, with --cimd-url-base / --cimd-out, in a folder the operator serves
// where the AS can fetch it. The client_id is the document's URL. Only an AS on this machine that
// may fetch loopback http URLs can reach the listener (the embedded reference server runs with
// allowLoopbackCimd). Each check first sends a valid document the AS should accept (the control,
// probeValidDocument): when the AS does not accept it, a refusal counts only if the AS is seen (or
// known) to have fetched it; otherwise nothing can be concluded and the check skips, naming
// --cimd-url-base. Behind an accepted control, a refusal can only be about the one defect a
// negative probe carries.
//
// Every authorization request here is sent once and its answer read: a `Location` header is
// inspected, never followed.

import { randomUUID } from 'node:crypto';
import type { CheckContext } from '../runner/check.ts';
import { defineCheck } from '../runner/check.ts';
import {
  type CimdHost,
  clientDocument,
  startConnectionCounter,
  withDocumentHost,
} from '../runner/cimd-host.ts';
import type { HttpResponse } from '../runner/http.ts';
import { type AuthorizationServer, authorizationUrl, newPkce } from '../runner/oauth.ts';
import { since } from '../runner/revisions.ts';

// --- shared probing helpers (also used by as-dcr.ts and as-metadata.ts) ------------------------

/** What one authorization request led to, as far as a client could see without following anything. */
export interface AuthorizationOutcome {
  kind:
    | 'code' // 3xx to the redirect URI with a code: the request was accepted
    | 'error-redirect' // 3xx to the redirect URI with an error
    | 'page' // 2xx, or 3xx within the AS: a login/consent step (accepted so far)
    | 'refused' // 4xx: an error shown to the user, no redirect to the client
    | 'other'; // 5xx, or 3xx to some other host
  status: number;
  /** The Location header, when there was one (codes in it are redacted in reports). */
  location?: string;
  error?: string;
  exchange: string;
  response: HttpResponse;
}

export function describeOutcome(o: AuthorizationOutcome): string {
  switch (o.kind) {
    case 'code':
      return `${o.status} redirect to the redirect URI with a code`;
    case 'error-redirect':
      return `${o.status} redirect to the redirect URI with error=${o.error ?? '?'}`;
    case 'page':
      return o.location
        ? `${o.status} redirect within the AS (${urlWithoutQuery(o.location)})`
        : `${o.status} page`;
    case 'refused':
      return `${o.status} error shown, no redirect`;
    case 'other':
      return o.location ? `${o.status} redirect to ${urlWithoutQuery(o.location)}` : `${o.status} answer`;
  }
}

function urlWithoutQuery(url: string): string {
  return url.split('?')[0]!;
}

/** Classifies the answer to an authorization request sent to `as` for `redirectUri`. */
export function classifyAuthorization(
  response: HttpResponse,
  as: AuthorizationServer,
  redirectUri: string,
): AuthorizationOutcome {
  const base = { status: response.status, exchange: response.exchange.id, response };
  const raw = response.headers.get('location') ?? undefined;
  if (response.status >= 300 && response.status < 400 && raw) {
    const location = URL.canParse(raw, response.url) ? new URL(raw, response.url) : undefined;
    const target = new URL(redirectUri);
    if (location && location.origin === target.origin && location.pathname === target.pathname) {
      if (location.searchParams.has('code')) return { ...base, kind: 'code', location: raw };
      const error = location.searchParams.get('error');
      if (error !== null) return { ...base, kind: 'error-redirect', location: raw, error };
      return { ...base, kind: 'other', location: raw };
    }
    const asOrigins = [as.issuer, as.metadata.authorization_endpoint]
      .filter((u): u is string => typeof u === 'string' && URL.canParse(u))
      .map((u) => new URL(u).origin);
    if (location && asOrigins.includes(location.origin)) return { ...base, kind: 'page', location: raw };
    return { ...base, kind: 'other', location: raw };
  }
  if (response.status >= 200 && response.status < 300) return { ...base, kind: 'page' };
  if (response.status >= 400 && response.status < 500) return { ...base, kind: 'refused' };
  return { ...base, kind: 'other' };
}

/**
 * Sends one well-formed authorization request (response_type=code, PKCE S256, state, `resource` =
 * the MCP endpoint, RFC 8707) for `clientId` and classifies the answer. `extra` parameters are
 * appended (e.g. prompt=consent).
 */
export async function authorizationProbe(
  t: CheckContext,
  as: AuthorizationServer,
  clientId: string,
  redirectUri: string,
  label: string,
  extra: [string, string][] = [],
): Promise<AuthorizationOutcome> {
  const pkce = await newPkce();
  // The run's scope (an AS may refuse requests without one): only the client_id is on trial.
  const scope = (await t.fixture('scope')).scope;
  const url = authorizationUrl(
    as,
    { clientId, authMethod: 'none', redirectUris: [redirectUri] },
    {
      redirectUri,
      state: randomUUID(),
      pkce,
      resource: t.target,
      extra,
      ...(scope !== undefined ? { scope } : {}),
    },
  );
  const response = await t.http.request(url, { label });
  return classifyAuthorization(response, as, redirectUri);
}

/** A loopback host name or IP literal (the only hosts the harness's own listeners use). */
export function isLoopbackUrl(url: unknown): boolean {
  if (typeof url !== 'string' || !URL.canParse(url)) return false;
  return ['127.0.0.1', '[::1]', 'localhost'].includes(new URL(url).hostname);
}

/** The discovered AS, or undefined after recording why the check cannot run. */
export async function discoveredAs(t: CheckContext): Promise<AuthorizationServer | undefined> {
  const discovery = await t.fixture('as');
  if (!discovery.metadata) {
    t.notApplicable('no authorization-server metadata was found (see AS-META-01)');
    return undefined;
  }
  return { issuer: discovery.issuer, metadata: discovery.metadata };
}

/**
 * How to let the AS reach the harness's documents: the hint of every skip below that comes from
 * an AS that did not, or could not, fetch a document on the harness's loopback listener.
 */
export const CIMD_URL_BASE_HOW =
  "publish the harness's client metadata documents where the authorization server can fetch them: --cimd-url-base https://HOST/PATH --cimd-out DIR, with DIR served live at that URL (a web server behind a tunnel, or a shared web folder)";

/**
 * The AS, when the harness can test metadata documents against it, and unless `ignoreFlag` when it
 * advertises `client_id_metadata_document_supported: true`. Documents on the harness's loopback
 * listener (no --cimd-url-base) can only be fetched by an AS on this machine, so an AS elsewhere
 * is not sent any; `localAs` (AS-CIMD-07, which watches a loopback port) needs an AS on this
 * machine whatever the documents' host.
 */
export async function cimdTarget(
  t: CheckContext,
  opts: { ignoreFlag?: boolean; localAs?: boolean } = {},
): Promise<AuthorizationServer | undefined> {
  const as = await discoveredAs(t);
  if (!as) return undefined;
  if (!opts.ignoreFlag && as.metadata.client_id_metadata_document_supported !== true) {
    t.notApplicable(
      'the authorization server does not advertise client_id_metadata_document_supported: true (CIMD is optional; see AS-META-09-A/-B)',
    );
    return undefined;
  }
  if (isLoopbackUrl(as.metadata.authorization_endpoint)) return as;
  if (opts.localAs) {
    t.prerequisiteMissing(
      'the authorization server runs on another machine: whether it connects to special-use addresses is seen only on a port of its own machine',
      "run the harness on the authorization server's machine",
    );
    return undefined;
  }
  if (!t.options.cimdPublishing) {
    t.prerequisiteMissing(
      'the harness hosts client metadata documents on a loopback http listener, which an authorization server on another machine cannot fetch',
      CIMD_URL_BASE_HOW,
    );
    return undefined;
  }
  return as;
}

/** The host of the documents of this run (see runner/cimd-host.ts), for the duration of `fn`. */
export function withHost<T>(t: CheckContext, fn: (host: CimdHost) => Promise<T>): Promise<T> {
  return withDocumentHost(t.options.cimdPublishing, fn);
}

/** A unique path for one document of one check. */
export function docPath(checkId: string, what: string): string {
  return `/cimd/${checkId.toLowerCase()}/${what}-${randomUUID().slice(0, 8)}.json`;
}

/** The harness's redirect URI on its document host (never visited: Location is only read). */
export function hostRedirectUri(host: CimdHost, path = '/callback'): string {
  return `${host.origin}${path}`;
}

/**
 * What became of a well-formed document the AS should accept:
 * - `accepted`: it led to a code or a login/consent page;
 * - `refused`: it did not, and the refusal is the AS's own doing (it fetched the document, or the
 *   harness started this AS and knows it fetches loopback documents);
 * - `unreached`: it did not, and nothing tells whether the AS could (or would) fetch it at all:
 *   `reason` says why no conclusion is possible;
 * - `unpublished`: the operator's folder does not serve it at its URL; nothing was sent.
 */
export type ValidDocumentProbe = InconclusiveProbe | ConclusiveProbe;
type InconclusiveProbe =
  | { kind: 'unpublished'; clientId: string; reason: string }
  | {
      kind: 'unreached';
      clientId: string;
      outcome: AuthorizationOutcome;
      fetches: number | undefined;
      reason: string;
    };
type ConclusiveProbe = {
  kind: 'accepted' | 'refused';
  clientId: string;
  outcome: AuthorizationOutcome;
  fetches: number | undefined;
};

/**
 * Publishes a well-formed document for a fresh URL (on a folder host, reads it back first) and
 * sends one authorization request with it as client_id. This is the control of every negative
 * probe and the probe of the positive checks: it tells "the AS refused the document" apart from
 * "the AS cannot reach (or rightly refuses to fetch) the harness's document".
 */
export async function probeValidDocument(
  t: CheckContext,
  as: AuthorizationServer,
  host: CimdHost,
  opts: { checkId: string; label: string; redirectUri?: string; extra?: [string, string][] },
): Promise<ValidDocumentProbe> {
  const path = docPath(opts.checkId, 'valid');
  const redirectUri = opts.redirectUri ?? hostRedirectUri(host);
  const clientId = host.url(path);
  host.publishJson(path, clientDocument(clientId, [redirectUri]));
  const unpublished = await host.confirm(path, t.http);
  if (unpublished) return { kind: 'unpublished', clientId, reason: unpublished };
  const outcome = await authorizationProbe(t, as, clientId, redirectUri, opts.label, opts.extra);
  const fetches = host.fetches(path);
  if (outcome.kind === 'code' || outcome.kind === 'page')
    return { kind: 'accepted', clientId, outcome, fetches };
  if ((fetches ?? 0) > 0 || (host.kind === 'listener' && t.options.cimdLoopbackFetch))
    return { kind: 'refused', clientId, outcome, fetches };
  const reason =
    host.kind === 'listener'
      ? `the authorization server never fetched ${clientId} (${describeOutcome(outcome)}): an AS that cannot reach this machine's loopback, or that rightly refuses http and loopback client_id URLs outside development (CIMD §6, SSRF), cannot be told apart from one that does not use metadata documents`
      : `the authorization server did not accept ${clientId} (${describeOutcome(outcome)}), which the harness itself read there; without seeing its fetches, an AS that cannot reach that host, or whose trust policy excludes it (MCP 2025-11-25 §Trust Policies, a MAY), cannot be told apart from one that does not use metadata documents`;
  return { kind: 'unreached', clientId, outcome, fetches, reason };
}

/**
 * Records "nothing can be concluded" for a probe that is `unpublished` or `unreached`, with the
 * option that would let it run; returns true when it did (the check then stops).
 */
export function concludesNothing(
  t: CheckContext,
  probe: ValidDocumentProbe,
  host: CimdHost,
): probe is InconclusiveProbe {
  if (probe.kind === 'unpublished') {
    t.prerequisiteMissing(
      `the metadata document written to --cimd-out is not served at its URL: ${probe.reason}`,
      `serve the --cimd-out folder live at ${host.base} (the --cimd-url-base), so each document is readable there as soon as it is written`,
    );
    return true;
  }
  if (probe.kind !== 'unreached') return false;
  t.prerequisiteMissing(
    probe.reason,
    host.kind === 'listener'
      ? CIMD_URL_BASE_HOW
      : `let the authorization server fetch documents under ${host.base} (admit that host in its trust policy)`,
  );
  return true;
}

/**
 * The control of a negative probe: a valid document for a fresh URL is accepted. Returns false
 * (after recording why) when it is not, because then no refusal proves anything.
 */
async function controlAccepted(t: CheckContext, as: AuthorizationServer, host: CimdHost): Promise<boolean> {
  const control = await probeValidDocument(t, as, host, {
    checkId: 'control',
    label: 'CIMD control: a valid document',
  });
  t.data('control', {
    clientId: control.clientId,
    ...(control.kind === 'unpublished'
      ? { unpublished: control.reason }
      : { fetches: control.fetches ?? 'not observable', outcome: describeOutcome(control.outcome) }),
  });
  if (control.kind === 'accepted') return true;
  if (concludesNothing(t, control, host)) return false;
  if (control.kind === 'refused')
    t.notApplicable(
      `a valid metadata document at ${control.clientId} is not accepted (${describeOutcome(control.outcome)}, fetched ${control.fetches ?? '?'} time(s)), so a refusal of a broken one would prove nothing (see AS-CIMD-01)`,
    );
  return false;
}

/** One negative probe: its name, the client_id sent, the redirect URI sent, and the outcome. */
interface NegativeResult {
  probe: string;
  clientId: string;
  outcome: AuthorizationOutcome;
  /** GETs of the document; undefined when not hosted by the harness or not observable. */
  fetched?: number | undefined;
}

/** One defective document to host: what the probe is called, and its body for a client_id. */
interface DefectiveDocument {
  /** "document with invalid JSON": the probe's name in the results. */
  probe: string;
  /** The label of the authorization request. */
  label: string;
  body: (clientId: string) => string;
}

/**
 * Hosts each defective document at a fresh path and sends, in parallel, an authorization request
 * whose client_id is that document's URL; the results are for judgeNegatives.
 */
async function probeDefectiveDocuments(
  t: CheckContext,
  as: AuthorizationServer,
  host: CimdHost,
  redirectUri: string,
  documents: readonly DefectiveDocument[],
): Promise<NegativeResult[]> {
  return Promise.all(
    documents.map(async ({ probe, label, body }, i) => {
      const path = docPath('probe', `defect-${i}`);
      const clientId = host.url(path);
      host.publish(path, { body: body(clientId) });
      const outcome = await authorizationProbe(t, as, clientId, redirectUri, label);
      return { probe, clientId, outcome, fetched: host.fetches(path) };
    }),
  );
}

/**
 * Judges negative probes: each must be refused without a redirect to the client. A redirect (with
 * a code or an error) is a violation; a login/consent page is inconclusive (the harness cannot tell
 * whether the AS would refuse after sign-in) and is only reported.
 */
function judgeNegatives(t: CheckContext, results: readonly NegativeResult[], what: string): void {
  t.data(
    'probes',
    results.map((r) => ({
      probe: r.probe,
      client_id: r.clientId,
      outcome: describeOutcome(r.outcome),
      ...(r.fetched !== undefined ? { fetched: r.fetched } : {}),
    })),
  );
  const redirected = results.filter((r) => r.outcome.kind === 'code' || r.outcome.kind === 'error-redirect');
  const pages = results.filter((r) => r.outcome.kind === 'page');
  const serverErrors = results.filter((r) => r.outcome.kind === 'other' && r.outcome.status >= 500);
  for (const r of redirected) {
    t.violated(`${r.probe}: ${describeOutcome(r.outcome)}, although ${what}`, {
      exchanges: [r.outcome.exchange],
    });
  }
  for (const r of pages) {
    t.observe(
      `${r.probe}: ${describeOutcome(r.outcome)}; the harness cannot tell whether the AS would refuse it after sign-in`,
    );
  }
  for (const r of serverErrors)
    t.note(`${r.probe}: answered ${r.outcome.status}; a clear 4xx is expected for bad input`);
  if (redirected.length === 0 && pages.length === 0) {
    t.conforms(`all ${results.length} probe(s) refused without a redirect to the client`);
  }
}

// --- checks -------------------------------------------------------------------------------------

export const AS_CIMD_01 = defineCheck({
  id: 'AS-CIMD-01',
  title: 'The AS fetches the client metadata document named by a URL client_id',
  level: 'SHOULD',
  refs: ['CIMD-00 §4 (Client Metadata Discovery)', 'MCP 2025-11-25 §Client ID Metadata Documents'],
  quotes: [
    {
      source: 'CIMD draft-00',
      section: '4',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'The authorization server SHOULD fetch the document indicated by the client_id to retrieve the client registration information.',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Implementation Requirements',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'SHOULD fetch metadata documents when encountering URL-formatted client_ids',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Implementation Requirements',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'SHOULD fetch metadata documents when encountering URL-formatted client_ids',
    },
  ],
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-cimd-disabled'],
  requirement:
    'An authorization server that advertises client_id_metadata_document_supported fetches the JSON document at the URL a client uses as its client_id, and accepts a valid one (MCP: authorization servers SHOULD support metadata documents).',
  remediation:
    'When a client_id is an https URL, GET it, validate the document (client_id equals the URL, redirect_uris, no secrets) and use it as the client registration.',
  probe:
    'Host a valid document on a harness loopback listener; send an authorization request with client_id = its URL; count the GETs the listener receives.',
  control:
    "The fetch of the harness's own document is the control: a refusal counts as the AS's only when the AS fetched the document (or the harness started this AS with loopback fetches allowed); a document never fetched concludes nothing (skip, saying how to publish one the AS can reach).",
  async run(t) {
    const as = await cimdTarget(t);
    if (!as) return;
    await withHost(t, async (host) => {
      const probe = await probeValidDocument(t, as, host, {
        checkId: 'probe',
        label: 'CIMD: valid document',
      });
      t.data('client_id', probe.clientId);
      if (concludesNothing(t, probe, host)) return;
      const { outcome, fetches } = probe;
      t.data('fetches', fetches ?? 'not observable (--cimd-url-base)');
      t.data('outcome', describeOutcome(outcome));
      if (probe.kind === 'refused') {
        t.violated(
          fetches === 0
            ? `the AS never fetched ${probe.clientId} (${describeOutcome(outcome)}), although it may fetch the harness's loopback documents`
            : `the AS fetched the valid document but refused it: ${describeOutcome(outcome)}`,
          { exchanges: [outcome.exchange] },
        );
      } else if (fetches === 0) {
        t.violated(
          `the AS never fetched ${probe.clientId}, yet answered ${describeOutcome(outcome)}; an AS that refuses http loopback client_id URLs in every setting also lands here`,
          { exchanges: [outcome.exchange] },
        );
      } else {
        t.conforms(
          fetches === undefined
            ? `the AS accepted the document published at ${probe.clientId}: ${describeOutcome(outcome)}`
            : `the AS fetched the document (${fetches} GET) and accepted it: ${describeOutcome(outcome)}`,
        );
      }
    });
  },
});

export const AS_CIMD_02 = defineCheck({
  id: 'AS-CIMD-02',
  title: 'A document whose client_id differs from its URL is refused',
  level: 'MUST',
  refs: ['CIMD-00 §4.1 (client_id MUST match the URL)', 'MCP 2025-11-25 §Client ID Metadata Documents'],
  quotes: [
    {
      source: 'MCP 2025-11-25',
      section: 'Implementation Requirements',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: "MUST validate that the fetched document's client_id matches the URL exactly",
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Implementation Requirements',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: "MUST validate that the fetched document's client_id matches the URL exactly",
    },
    {
      source: 'CIMD draft-00',
      section: '4.1',
      keyword: 'MUST',
      binds: 'client',
      text: 'The client metadata document MUST contain a client_id property whose value MUST match the URL of the document using simple string comparison as defined in [RFC3986] Section 6.2.1.',
    },
  ],
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-cimd-client-id-mismatch-accepted'],
  requirement:
    'The client_id inside a metadata document must equal, by simple string comparison, the URL it was fetched from; otherwise the AS refuses the request and does not redirect to the client.',
  remediation:
    "Compare the document's client_id with the URL byte for byte (no normalisation of case or trailing slash) and show an error page when they differ.",
  probe:
    'Documents whose client_id is the URL plus a trailing slash, the URL with another path case, and another origin; one authorization request each.',
  control:
    'A well-formed document at a fresh URL of the same host, sent first as client_id of the same kind of request: accepted (a code or a sign-in page), it shows a refusal of a mismatched client_id is about the mismatch; refused, or never fetched, nothing is concluded.',
  async run(t) {
    const as = await cimdTarget(t);
    if (!as) return;
    await withHost(t, async (host) => {
      if (!(await controlAccepted(t, as, host))) return;
      const redirectUri = hostRedirectUri(host);
      const variants: [string, (url: string) => string][] = [
        ['trailing slash', (url) => `${url}/`],
        ['path case', (url) => url.replace('/cimd/', '/CIMD/')],
        ['another origin', () => 'https://client.example.test/client-metadata.json'],
      ];
      const results = await probeDefectiveDocuments(
        t,
        as,
        host,
        redirectUri,
        variants.map(([name, mutate]) => ({
          probe: `document client_id with ${name}`,
          label: `CIMD: client_id mismatch (${name})`,
          body: (clientId) => JSON.stringify(clientDocument(mutate(clientId), [redirectUri])),
        })),
      );
      judgeNegatives(t, results, 'the document names another client_id');
    });
  },
});

export const AS_CIMD_03 = defineCheck({
  id: 'AS-CIMD-03',
  title: 'A redirect_uri the document does not list is refused',
  level: 'MUST',
  refs: ['MCP 2025-11-25 §Client ID Metadata Documents', 'CIMD-00 §4.5 (Redirect URL Registration)'],
  quotes: [
    {
      source: 'MCP 2025-11-25',
      section: 'Implementation Requirements',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MUST validate redirect URIs presented in an authorization request against those in the metadata document',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Implementation Requirements',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MUST validate redirect URIs presented in an authorization request against those in the metadata document',
    },
    {
      source: 'CIMD draft-00',
      section: '4.5',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'According to [RFC9700], the authorization server MUST require registration of redirect URIs, and MUST ensure that the redirect URI in a request is an exact match of a registered redirect URI.',
    },
  ],
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-cimd-redirect-unchecked'],
  requirement:
    "For a metadata-document client, the document's redirect_uris are the registered redirect URIs: an authorization request with any other redirect_uri is refused without a redirect.",
  remediation:
    "Match the request's redirect_uri exactly against the document's redirect_uris before redirecting anywhere.",
  probe:
    'A valid document listing /callback; an authorization request with redirect_uri /elsewhere on the same origin.',
  control:
    'A well-formed document at a fresh URL of the same host, sent first with a redirect URI it lists: accepted, it shows the refusal of the unlisted redirect_uri is about the redirect URI; otherwise nothing is concluded.',
  async run(t) {
    const as = await cimdTarget(t);
    if (!as) return;
    await withHost(t, async (host) => {
      if (!(await controlAccepted(t, as, host))) return;
      const path = docPath('probe', 'listed');
      const clientId = host.url(path);
      host.publishJson(path, clientDocument(clientId, [hostRedirectUri(host)]));
      const unlisted = hostRedirectUri(host, '/elsewhere');
      const outcome = await authorizationProbe(
        t,
        as,
        clientId,
        unlisted,
        'CIMD: redirect_uri not in the document',
      );
      judgeNegatives(
        t,
        [{ probe: `redirect_uri ${unlisted}`, clientId, outcome }],
        'the document does not list that redirect_uri',
      );
    });
  },
});

export const AS_CIMD_04 = defineCheck({
  id: 'AS-CIMD-04',
  title: 'Malformed documents are refused',
  level: 'MUST',
  refs: ['MCP 2025-11-25 §Client ID Metadata Documents ("validate the document structure")', 'CIMD-00 §4.1'],
  quotes: [
    {
      source: 'MCP 2025-11-25',
      section: 'Implementation Requirements',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MUST validate the document structure is valid JSON and contains required fields',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Implementation Requirements',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MUST validate the document structure is valid JSON and contains required fields',
    },
  ],
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-cimd-client-id-mismatch-accepted'],
  requirement:
    'A document that is not valid JSON, not a JSON object, or lacks client_id or redirect_uris is refused, without a redirect to the client.',
  remediation:
    'Parse the document strictly and require an object with client_id (equal to the URL) and a non-empty redirect_uris array before using it.',
  probe: 'Four documents, one defect each: invalid JSON, a JSON array, no client_id, no redirect_uris.',
  control:
    'A well-formed document at a fresh URL of the same host, sent first: accepted, it shows each refusal is about the defect in the malformed document; otherwise nothing is concluded.',
  async run(t) {
    const as = await cimdTarget(t);
    if (!as) return;
    await withHost(t, async (host) => {
      if (!(await controlAccepted(t, as, host))) return;
      const redirectUri = hostRedirectUri(host);
      const defects: [string, (clientId: string) => string][] = [
        ['invalid JSON', (id) => JSON.stringify(clientDocument(id, [redirectUri])).slice(0, -1)],
        ['a JSON array', (id) => JSON.stringify([clientDocument(id, [redirectUri])])],
        ['no client_id', (id) => JSON.stringify(clientDocument(id, [redirectUri], { client_id: undefined }))],
        [
          'no redirect_uris',
          (id) => JSON.stringify(clientDocument(id, [redirectUri], { redirect_uris: undefined })),
        ],
      ];
      const results = await probeDefectiveDocuments(
        t,
        as,
        host,
        redirectUri,
        defects.map(([name, body]) => ({
          probe: `document with ${name}`,
          label: `CIMD: document with ${name}`,
          body,
        })),
      );
      judgeNegatives(t, results, 'the document is malformed');
    });
  },
});

export const AS_CIMD_05 = defineCheck({
  id: 'AS-CIMD-05',
  title: 'client_id URLs that break the URL rules are refused',
  level: 'SHOULD',
  refs: ['CIMD-00 §3 (Client Identifier URL)'],
  quotes: [
    {
      source: 'CIMD draft-00',
      section: '3',
      keyword: 'MUST',
      binds: 'client',
      text: 'Client identifier URLs MUST have an "https" scheme, MUST contain a path component, MUST NOT contain single-dot or double-dot path segments, MUST NOT contain a fragment component and MUST NOT contain a username or password',
    },
  ],
  derived:
    'CIMD-00 §3 sets the form of a client identifier URL as a rule on the client that chooses it; no sentence orders the AS to refuse other URLs, but an AS that accepts them loses what the form guarantees (an https origin, no userinfo or dot segments to disguise the host).',
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-cimd-url-unchecked'],
  requirement:
    'A client_id URL must use https (the loopback http exception is a development setting), contain a path, and carry no dot segments, fragment or userinfo; otherwise it is refused, ideally without being fetched. (derived: CIMD says clients MUST use such URLs; an AS that accepts others loses the guarantees.)',
  remediation:
    'Validate the client_id URL (scheme, path, no ./.. segments, no fragment, no userinfo) before fetching anything.',
  probe:
    'Authorization requests with client_ids: no path, /./ and /../ segments, a fragment, userinfo, plain http on a non-loopback host; each resolvable document is hosted with the raw URL as its client_id.',
  control:
    'A well-formed document at a fresh, valid URL of the same host, sent first: accepted, it shows each refusal is about the URL rule the client_id breaks; otherwise nothing is concluded.',
  async run(t) {
    const as = await cimdTarget(t);
    if (!as) return;
    await withHost(t, async (host) => {
      if (!(await controlAccepted(t, as, host))) return;
      const redirectUri = hostRedirectUri(host);
      const name = `${randomUUID().slice(0, 8)}.json`;
      // [probe, raw client_id, the path a fetch of it would reach (undefined: not on our host)]
      const probes: [string, string, string | undefined][] = [
        ['a /./ segment', host.url(`/cimd/dot/./${name}`), `/cimd/dot/${name}`],
        ['a /../ segment', host.url(`/cimd/x/../dotdot/${name}`), `/cimd/dotdot/${name}`],
        ['a fragment', host.url(`/cimd/frag/${name}#section`), `/cimd/frag/${name}`],
        ['userinfo', host.url(`/cimd/user/${name}`).replace('://', '://user@'), `/cimd/user/${name}`],
        ['http on a non-loopback host', `http://client.example.test/cimd/${name}`, undefined],
      ];
      // A document at the root of an origin exists only on the harness's own listener (a folder
      // published under a path has no root of its own).
      if (host.kind === 'listener') probes.unshift(['no path', host.origin, '/']);
      else
        t.note('the "no path" probe needs a document at the root of an origin: not run with --cimd-url-base');
      const results: NegativeResult[] = [];
      for (const [probe, clientId, path] of probes) {
        // Each probe in turn: the no-path probe owns "/" of the shared host.
        if (path) host.publishJson(path, clientDocument(clientId, [redirectUri]));
        const outcome = await authorizationProbe(
          t,
          as,
          clientId,
          redirectUri,
          `CIMD: client_id URL with ${probe}`,
        );
        results.push({
          probe: `client_id URL with ${probe}`,
          clientId,
          outcome,
          ...(path ? { fetched: host.fetches(path) } : {}),
        });
      }
      const fetched = results.filter((r) => (r.fetched ?? 0) > 0).map((r) => r.probe);
      if (fetched.length > 0)
        t.note(
          `fetched although the URL is invalid (CIMD: ideally not fetched at all): ${fetched.join(', ')}`,
        );
      judgeNegatives(t, results, 'the client_id URL breaks the CIMD URL rules');
    });
  },
});

export const AS_CIMD_06 = defineCheck({
  id: 'AS-CIMD-06',
  title: 'Documents that declare a shared secret are refused',
  level: 'SHOULD',
  refs: ['CIMD-00 §4.1 (no shared-secret authentication methods, no client_secret)'],
  quotes: [
    {
      source: 'CIMD draft-00',
      section: '4.1',
      keyword: 'MUST NOT',
      binds: 'client',
      text: 'the token_endpoint_auth_method property MUST NOT include client_secret_post, client_secret_basic, client_secret_jwt, or any other method based around a shared symmetric secret.',
    },
    {
      source: 'CIMD draft-00',
      section: '4.1',
      keyword: 'MUST NOT',
      binds: 'client',
      text: 'the client_secret and client_secret_expires_at properties MUST NOT be used',
    },
  ],
  derived:
    'CIMD-00 §4.1 forbids shared-secret authentication methods and client_secret members in a metadata document (a rule on its contents, since no secret can be shared with a public document); no sentence orders the AS to refuse such a document.',
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-cimd-secret-accepted'],
  requirement:
    'A metadata document is public, so it must not declare client_secret_basic / client_secret_post (or client_secret_jwt), nor contain client_secret or client_secret_expires_at; such a document is refused. (derived)',
  remediation:
    'Refuse documents whose token_endpoint_auth_method starts with client_secret_ or that carry client_secret members.',
  probe:
    'Four documents: client_secret_basic, client_secret_post, a client_secret member, a client_secret_expires_at member.',
  control:
    'A well-formed document (token_endpoint_auth_method none) at a fresh URL of the same host, sent first: accepted, it shows each refusal is about the declared secret; otherwise nothing is concluded.',
  async run(t) {
    const as = await cimdTarget(t);
    if (!as) return;
    await withHost(t, async (host) => {
      if (!(await controlAccepted(t, as, host))) return;
      const redirectUri = hostRedirectUri(host);
      const defects: [string, Record<string, unknown>][] = [
        [
          'token_endpoint_auth_method client_secret_basic',
          { token_endpoint_auth_method: 'client_secret_basic' },
        ],
        [
          'token_endpoint_auth_method client_secret_post',
          { token_endpoint_auth_method: 'client_secret_post' },
        ],
        // A visibly fake value: the document is public by nature, and this one never is a credential.
        ['a client_secret member', { client_secret: 'not-a-secret-conformance-probe' }],
        ['a client_secret_expires_at member', { client_secret_expires_at: 0 }],
      ];
      const results = await probeDefectiveDocuments(
        t,
        as,
        host,
        redirectUri,
        defects.map(([name, extra]) => ({
          probe: `document with ${name}`,
          label: `CIMD: document with ${name}`,
          body: (clientId) => JSON.stringify(clientDocument(clientId, [redirectUri], extra)),
        })),
      );
      judgeNegatives(t, results, 'the document declares a shared secret');
    });
  },
});

export const AS_CIMD_07 = defineCheck({
  id: 'AS-CIMD-07',
  title: 'The AS does not fetch client_id URLs on loopback, private or link-local addresses',
  level: 'SHOULD',
  refs: ['CIMD-00 §6 (Security: SSRF)', 'MCP 2025-11-25 §Client ID Metadata Documents (AS abuse protection)'],
  quotes: [
    {
      source: 'CIMD draft-00',
      section: '6.5',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'Authorization servers SHOULD avoid fetching any URLs using private or loopback addresses and consider network policies or other measures to prevent making requests to these addresses.',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Authorization Server Abuse Protection',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'Authorization servers fetching metadata documents SHOULD consider Server-Side Request Forgery (SSRF) risks, as described in OAuth Client ID Metadata Document: Server Side Request Forgery (SSRF) Attacks.',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Authorization Server Abuse Protection',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'Authorization servers fetching metadata documents SHOULD consider Server-Side Request Forgery (SSRF) risks, as described in OAuth Client ID Metadata Document: Server Side Request Forgery (SSRF) Attacks.',
    },
  ],
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-cimd-ssrf-unguarded'],
  requirement:
    "Fetching a URL chosen by anyone is a server-side request forgery risk: the AS does not connect to https client_id URLs whose host is (or resolves to) a loopback, private, link-local or other special-use address. (SHOULD in CIMD -00, MUST in -01.) An AS that fetches the harness's http://127.0.0.1 test documents in a development setting is still judged on https URLs: the reference server with allowLoopbackCimd keeps its guard for them.",
  remediation:
    'Resolve the host, refuse special-use addresses (RFC 6890: 127/8, ::1, 10/8, 172.16/12, 192.168/16, 169.254/16, fc00::/7, fe80::/10, ...), and connect only to the address that was checked (no DNS rebinding).',
  probe:
    'client_id = https://127.0.0.1:PORT/c.json (PORT: a harness TCP listener that counts connections), https://[::1]:PORT/c.json and https://169.254.169.254/latest/meta-data.',
  control:
    "None: the loopback probes are judged on the connections the harness's own listener counted (the rule is that the AS does not connect), and every probe only on whether the request went on to the client; no refusal is credited with more than that.",
  async run(t) {
    const as = await cimdTarget(t, { localAs: true });
    if (!as) return;
    const counter = await startConnectionCounter();
    try {
      const redirectUri = 'http://127.0.0.1/callback';
      const probes: [string, string][] = [
        ['loopback IPv4', `https://127.0.0.1:${counter.port}/c.json`],
        ['loopback IPv6', `https://[::1]:${counter.port}/c.json`],
        ['link-local (cloud metadata)', 'https://169.254.169.254/latest/meta-data'],
      ];
      const results: NegativeResult[] = [];
      for (const [name, clientId] of probes) {
        const outcome = await authorizationProbe(t, as, clientId, redirectUri, `CIMD SSRF: ${name}`);
        results.push({ probe: name, clientId, outcome });
      }
      t.data('connections', counter.connections());
      if (counter.connections() > 0) {
        t.violated(
          `the AS opened ${counter.connections()} connection(s) to the harness's loopback listener for a client_id on 127.0.0.1`,
        );
      }
      judgeNegatives(t, results, 'the client_id URL points at a special-use address');
    } finally {
      await counter.close();
    }
  },
});

export const AS_CIMD_08 = defineCheck({
  id: 'AS-CIMD-08',
  title: 'A failed document fetch aborts the request and is not cached',
  level: 'MUST',
  refs: ['CIMD-00 §4.3 (Metadata Discovery Errors)', 'CIMD-00 §4.4 (Caching)'],
  quotes: [
    {
      source: 'CIMD draft-00',
      section: '4.4',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: 'The authorization server MUST NOT cache error responses. The authorization server also MUST NOT cache documents which are invalid or malformed.',
    },
    {
      source: 'CIMD draft-00',
      section: '4.3',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'If fetching the metadata document fails, the authorization server SHOULD abort the authorization request.',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Implementation Requirements',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MUST validate redirect URIs presented in an authorization request against those in the metadata document',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Implementation Requirements',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MUST validate redirect URIs presented in an authorization request against those in the metadata document',
    },
  ],
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-cimd-caches-errors'],
  requirement:
    'A fetch that does not answer 200 with a valid document aborts the authorization request; neither the error response nor an invalid document is cached, so the client works as soon as its document is fixed.',
  remediation:
    'Cache only successfully validated documents (respecting HTTP caching headers); never cache a failure.',
  probe:
    'Two documents: the first answers 500, then a valid document; the second answers invalid JSON, then a valid document. Two authorization requests each.',
  control:
    'A well-formed document at a fresh URL of the same host, sent first: accepted, it shows that a request that does not go on after a failed fetch stopped because of the fetch; the fixed document accepted next time is judged as a positive observation.',
  async run(t) {
    const as = await cimdTarget(t);
    if (!as) return;
    await withHost(t, async (host) => {
      if (!(await controlAccepted(t, as, host))) return;
      const redirectUri = hostRedirectUri(host);
      // A folder cannot answer 500: there the failed fetch is a missing file (the operator's web
      // server answers it, usually 404); CIMD §4.3 treats every answer but 200 alike.
      const errorCase = host.kind === 'listener' ? 'HTTP 500' : 'no document (missing file)';
      const cases: [string, (clientId: string) => { status: number; body: string }][] = [
        [errorCase, () => ({ status: 500, body: '{"error":"temporarily broken"}' })],
        [
          'invalid JSON',
          (id) => ({ status: 200, body: JSON.stringify(clientDocument(id, [redirectUri])).slice(0, -1) }),
        ],
      ];
      const rows: Record<string, unknown>[] = [];
      for (const [name, broken] of cases) {
        const path = docPath('probe', name.replace(/\W+/g, '-'));
        const clientId = host.url(path);
        host.publish(path, broken(clientId));
        const first = await authorizationProbe(t, as, clientId, redirectUri, `CIMD: ${name} on first fetch`);
        // The fix: from now on the URL serves a valid document (read back first on a folder, so a
        // stale copy of the broken one is never blamed on the AS).
        host.publishJson(path, clientDocument(clientId, [redirectUri]));
        const stale = await host.confirm(path, t.http);
        if (stale) {
          t.prerequisiteMissing(
            `${name}: the fixed document is not served yet: ${stale}`,
            `serve the --cimd-out folder live at ${host.base}, without caching`,
          );
          return;
        }
        const second = await authorizationProbe(
          t,
          as,
          clientId,
          redirectUri,
          `CIMD: valid document after ${name}`,
        );
        const fetches = host.fetches(path);
        rows.push({
          case: name,
          first: describeOutcome(first),
          second: describeOutcome(second),
          fetches: fetches ?? 'not observable (--cimd-url-base)',
        });
        if (first.kind === 'code' || first.kind === 'error-redirect') {
          t.violated(`${name}: the request went on although the fetch failed (${describeOutcome(first)})`, {
            exchanges: [first.exchange],
          });
        }
        if (second.kind !== 'code' && second.kind !== 'page') {
          t.violated(
            `${name}: after the document was fixed, the next request still failed (${describeOutcome(second)}${fetches === undefined ? '' : `, ${fetches} fetch(es)`}): the failure was cached`,
            { exchanges: [second.exchange] },
          );
        }
      }
      t.data('cases', rows);
      if (rows.length === cases.length)
        t.conforms(
          'each failed fetch aborted its request, and the fixed document was fetched and accepted next time',
        );
    });
  },
});

export const AS_CIMD_09 = defineCheck({
  id: 'AS-CIMD-09',
  title: 'An oversized document is refused and the AS stays responsive',
  level: 'SHOULD',
  refs: ['CIMD-00 §6 (documents are small; servers may cap the size, e.g. 5 KB)'],
  quotes: [
    {
      source: 'CIMD draft-00',
      section: '6.6',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'Authorization servers SHOULD limit the response size when fetching the client metadata document, as to avoid denial of service attacks against the authorization server by consuming excessive resources (memory, disk, database).',
    },
  ],
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-cimd-no-size-cap'],
  requirement:
    'The AS bounds what it reads from a client_id URL: a 1 MB document is refused (or read only up to a cap), and the AS keeps answering other requests.',
  remediation:
    'Stop reading a metadata document after a few kilobytes and refuse it; bound the fetch in time as well.',
  probe: 'A valid document padded to 1 MB; one authorization request; then GET the AS metadata.',
  control:
    'A well-formed document of ordinary size at a fresh URL of the same host, sent first: accepted, it shows the refusal of the 1 MB document is about its size; otherwise nothing is concluded.',
  async run(t) {
    const as = await cimdTarget(t);
    if (!as) return;
    await withHost(t, async (host) => {
      if (!(await controlAccepted(t, as, host))) return;
      const redirectUri = hostRedirectUri(host);
      const path = docPath('probe', 'large');
      const clientId = host.url(path);
      host.publishJson(path, clientDocument(clientId, [redirectUri], { padding: 'x'.repeat(1024 * 1024) }));
      const outcome = await authorizationProbe(t, as, clientId, redirectUri, 'CIMD: 1 MB document');
      judgeNegatives(
        t,
        [{ probe: '1 MB document', clientId, outcome, fetched: host.fetches(path) }],
        'the document is 1 MB',
      );
      const discovery = await t.fixture('as');
      if (discovery.metadataUrl) {
        const after = await t.http.request(discovery.metadataUrl, {
          label: 'AS still responsive after the 1 MB document',
        });
        if (after.status !== 200)
          t.violated(`after the 1 MB document, the AS metadata answers ${after.status}`);
      }
    });
  },
});

export const AS_CIMD_10 = defineCheck({
  id: 'AS-CIMD-10',
  title: 'The consent page shows the host the user will be redirected to',
  level: 'MUST',
  refs: ['MCP 2025-11-25 §Client ID Metadata Documents (localhost redirect URI risks)'],
  quotes: [
    {
      source: 'MCP 2025-11-25',
      section: 'Localhost Redirect URI Risks',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MUST clearly display the redirect URI hostname during authorization',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Localhost Redirect URI Risks',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MUST clearly display the redirect URI hostname during authorization',
    },
  ],
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-consent-hides-redirect-host'],
  requirement:
    "Anyone can publish a metadata document naming a localhost redirect URI, so the consent page clearly shows the redirect URI's host to the user. Judged from the page text; a page that conveys the host only in an image cannot be seen by the harness.",
  remediation:
    'Print the redirect URI host (e.g. "you will be sent to localhost:3000") on the consent page, with a warning for localhost.',
  probe:
    'A valid document whose redirect URI is http://localhost:PORT/callback; an authorization request with prompt=consent; search the page for the host.',
  control:
    "The harness's own document must have been reached (the AS fetched it, or the harness started this AS with loopback fetches allowed); otherwise nothing is concluded. The consent page itself is judged on what it shows.",
  async run(t) {
    const as = await cimdTarget(t);
    if (!as) return;
    await withHost(t, async (host) => {
      // The port of the harness's listener, or the MCP example's 3000 for a folder on port 443.
      const redirectUri = `http://localhost:${new URL(host.origin).port || '3000'}/callback`;
      const probe = await probeValidDocument(t, as, host, {
        checkId: 'probe',
        label: 'CIMD: consent page',
        redirectUri,
        extra: [['prompt', 'consent']],
      });
      if (concludesNothing(t, probe, host)) return;
      const { outcome } = probe;
      t.data('outcome', describeOutcome(outcome));
      if (outcome.kind !== 'page' || outcome.location) {
        t.notApplicable(
          `no consent page to inspect: the request with prompt=consent ended in ${describeOutcome(outcome)}`,
        );
        return;
      }
      const text = outcome.response.text;
      const redirectHost = new URL(redirectUri).host;
      if (text.includes(redirectHost)) t.conforms(`the consent page shows ${redirectHost}`);
      else
        t.violated(`the consent page does not show the redirect host ${redirectHost}`, {
          exchanges: [outcome.exchange],
        });
    });
  },
});

export const checks = [
  AS_CIMD_01,
  AS_CIMD_02,
  AS_CIMD_03,
  AS_CIMD_04,
  AS_CIMD_05,
  AS_CIMD_06,
  AS_CIMD_07,
  AS_CIMD_08,
  AS_CIMD_09,
  AS_CIMD_10,
];
