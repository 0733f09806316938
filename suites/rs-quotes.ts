// Normative sentences that several resource-server checks enforce, copied from the specification
// texts themselves (runner/check.ts Quote): the MCP source of each revision, OAuth 2.1 draft-13
// and the RFCs. Markdown markup and line breaks are collapsed; the words and the BCP 14 keyword
// are as written. A sentence that stands word for word in several MCP revisions is written once
// and quoted once per revision (`inMcp`), because each revision's level comes from its own text.

import { type Quote, quoteRevision } from '../runner/check.ts';
import { REVISIONS, type Revision } from '../runner/revisions.ts';

/**
 * Sentences of the MCP text, as they stand word for word in each of `revisions`: one Quote per
 * sentence and revision.
 */
export function inMcp(
  revisions: readonly Revision[],
  sentences: Omit<Quote, 'source'> | readonly Omit<Quote, 'source'>[],
): Quote[] {
  const list = Array.isArray(sentences) ? sentences : [sentences as Omit<Quote, 'source'>];
  return revisions.flatMap((revision) => list.map((q) => ({ source: `MCP ${revision}`, ...q })));
}

/** The quotes that speak for `revision`: those of its MCP text, and every non-MCP source. */
export function quotesFor(quotes: readonly Quote[], revision: Revision): Quote[] {
  return quotes.filter((q) => (quoteRevision(q) ?? revision) === revision);
}

/** How a message quotes a sentence: "…" (MCP 2025-11-25 §Token Handling). */
export function cite(quote: Quote): string {
  return `"${quote.text}" (${quote.source} §${quote.section})`;
}

/**
 * The sentence a conflict message quotes on each side, for the run's revision: the first quote of
 * `side` that speaks for it. Throws when a side has none (a metadata mistake the quotes test would
 * also report).
 */
export function conflictSides(
  revision: Revision,
  ...sides: readonly (readonly Quote[])[]
): { text: string; quotes: Quote[] } {
  const quotes = sides.map((side) => {
    const q = quotesFor(side, revision)[0];
    if (!q) throw new Error(`no quote for ${revision} on one side of a conflict`);
    return q;
  });
  return { text: `the specs disagree here: ${quotes.map(cite).join(' versus ')}`, quotes };
}

// MCP, Token Handling (2025-06-18, 2025-11-25; 2026-07-28 authorization index).
export const INVALID_TOKENS_GET_401: readonly Quote[] = inMcp(REVISIONS, {
  section: 'Token Handling',
  text: 'Invalid or expired tokens MUST receive a HTTP 401 response.',
  keyword: 'MUST',
  binds: 'resource-server',
});

export const VALIDATE_AUDIENCE: readonly Quote[] = inMcp(REVISIONS, {
  section: 'Token Handling',
  text: 'MCP servers MUST validate that access tokens were issued specifically for them as the intended audience, according to RFC 8707 Section 2.',
  keyword: 'MUST',
  binds: 'resource-server',
});

export const NO_OTHER_TOKENS: readonly Quote[] = inMcp(REVISIONS, {
  section: 'Token Handling',
  text: 'MCP servers MUST NOT accept or transit any other tokens.',
  keyword: 'MUST NOT',
  binds: 'resource-server',
});

// MCP, Access Token Privilege Restriction (2026-07-28: on the Security Considerations page).
export const ONLY_OWN_AUDIENCE: readonly Quote[] = inMcp(REVISIONS, {
  section: 'Access Token Privilege Restriction',
  text: 'MCP servers MUST only accept tokens specifically intended for themselves and MUST reject tokens that do not include them in the audience claim or otherwise verify that they are the intended recipient of the token.',
  keyword: 'MUST',
  binds: 'resource-server',
});

// MCP, Error Handling: the sentence that introduces the 401 / 403 / 400 table.
export const STATUS_CODES: readonly Quote[] = inMcp(REVISIONS, {
  section: 'Error Handling',
  text: 'Servers MUST return appropriate HTTP status codes for authorization errors:',
  keyword: 'MUST',
  binds: 'resource-server',
});

// MCP Security Best Practices, mitigation of session hijacking (2025) and of state handle
// hijacking (2026-07-28, which has no sessions): the same first sentence.
export const VERIFY_ALL_INBOUND: readonly Quote[] = [
  ...inMcp(['2025-06-18', '2025-11-25'], {
    section: 'Security Best Practices: Session Hijacking',
    text: 'MCP servers that implement authorization MUST verify all inbound requests.',
    keyword: 'MUST',
    binds: 'resource-server',
  }),
  ...inMcp(['2026-07-28'], {
    section: 'Security Best Practices: State Handle Hijacking',
    text: 'MCP servers that implement authorization MUST verify all inbound requests.',
    keyword: 'MUST',
    binds: 'resource-server',
  }),
];

// MCP transport, Security Warning (2026-07-28: Streamable HTTP, Security & Endpoint).
export const AUTHENTICATE_ALL_CONNECTIONS: readonly Quote[] = [
  ...inMcp(['2025-06-18', '2025-11-25'], {
    section: 'Transports: Security Warning',
    text: 'Servers SHOULD implement proper authentication for all connections',
    keyword: 'SHOULD',
    binds: 'resource-server',
  }),
  ...inMcp(['2026-07-28'], {
    section: 'Streamable HTTP: Security & Endpoint',
    text: 'Servers SHOULD implement proper authentication for all connections.',
    keyword: 'SHOULD',
    binds: 'resource-server',
  }),
];

// RFC 6750 §3 (OAuth 2.1 draft-13 §5.3.1 says the same): the challenge on every refusal.
export const CHALLENGE_ON_REFUSAL: Quote = {
  source: 'RFC 6750',
  section: '3',
  text: 'If the protected resource request does not include authentication credentials or does not contain an access token that enables access to the protected resource, the resource server MUST include the HTTP "WWW-Authenticate" response header field; it MAY include it in response to other conditions as well.',
  keyword: 'MUST',
  binds: 'resource-server',
};

export const BEARER_SCHEME: Quote = {
  source: 'RFC 6750',
  section: '3',
  text: 'All challenges defined by this specification MUST use the auth-scheme value "Bearer".',
  keyword: 'MUST',
  binds: 'resource-server',
};

// RFC 9068 §4: "Resource servers receiving a JWT access token MUST validate it in the following
// manner." Each bullet below binds the resource server.
export const JWT_VALIDATION_INTRO: Quote = {
  source: 'RFC 9068',
  section: '4',
  text: 'Resource servers receiving a JWT access token MUST validate it in the following manner.',
  keyword: 'MUST',
  binds: 'resource-server',
};

export const JWT_AUDIENCE: readonly Quote[] = [
  {
    source: 'RFC 9068',
    section: '4',
    text: 'The resource server MUST validate that the "aud" claim contains a resource indicator value corresponding to an identifier the resource server expects for itself.',
    keyword: 'MUST',
    binds: 'resource-server',
  },
  {
    source: 'RFC 9068',
    section: '4',
    text: 'The JWT access token MUST be rejected if "aud" does not contain a resource indicator of the current resource server as a valid audience.',
    keyword: 'MUST',
    binds: 'resource-server',
  },
];

// OAuth 2.1 draft-13 §5: what a resource server checks on every request.
export const VALIDATE_ACCESS_TOKEN: Quote = {
  source: 'OAuth 2.1 draft-13',
  section: '5',
  text: 'The resource server MUST validate the access token and ensure that it has not expired and that its scope covers the requested resource.',
  keyword: 'MUST',
  binds: 'resource-server',
};

export const ERROR_ATTRIBUTE_ON_BAD_TOKEN: Quote = {
  source: 'OAuth 2.1 draft-13',
  section: '5.3.1',
  text: 'If the protected resource request included an access token and failed authentication, the resource server SHOULD include the error attribute to provide the client with the reason why the access request was declined.',
  keyword: 'SHOULD',
  binds: 'resource-server',
};

// MCP, Canonical Server URI.
export const ACCEPT_UPPERCASE_SCHEME_HOST: readonly Quote[] = inMcp(REVISIONS, {
  section: 'Canonical Server URI',
  text: 'While the canonical form uses lowercase scheme and host components, implementations SHOULD accept uppercase scheme and host components for robustness and interoperability.',
  keyword: 'SHOULD',
  binds: 'resource-server',
});

// MCP 2026-07-28, Refresh Tokens: offline_access is the client's choice, not a resource scope.
export const OFFLINE_ACCESS_NOT_A_RESOURCE_SCOPE: readonly Quote[] = inMcp(['2026-07-28'], {
  section: 'Refresh Tokens',
  text: 'MCP Servers (Protected Resources) SHOULD NOT include offline_access in WWW-Authenticate scope or Protected Resource Metadata scopes_supported, as refresh tokens are not a resource requirement.',
  keyword: 'SHOULD NOT',
  binds: 'resource-server',
});
