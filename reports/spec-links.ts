// Turns a check's spec reference ("RFC9728 §3.3", "MCP 2025-06-18 §Error Handling",
// "OAuth 2.1 draft-13 §5.3.1") into a link a reader can follow. Every renderer that shows a
// reference (HTML, SARIF helpUri, Markdown) uses this one function, so links agree everywhere.
// A reference this function does not recognise gets no link rather than a wrong one.

const RFC = /^RFC\s?(\d{3,5})(?:\s*§\s*([0-9A-Z][0-9.]*[0-9]|[0-9A-Z]))?/i;
const OAUTH21 = /^OAuth 2\.1(?: draft-(\d+))?(?:\s*§\s*([0-9][0-9.]*[0-9]|[0-9]))?/i;
const MCP = /^MCP (\d{4}-\d{2}-\d{2})/;
const CIMD = /^CIMD(?:-(\d+))?(?:\s*§\s*([0-9][0-9.]*[0-9]|[0-9]))?/i;

/** The URL of the spec section a reference names, or undefined when the reference is not known. */
export function specUrl(ref: string): string | undefined {
  const text = ref.trim();
  const rfc = RFC.exec(text);
  if (rfc) {
    const base = `https://www.rfc-editor.org/rfc/rfc${rfc[1]}`;
    return rfc[2] ? `${base}#${sectionAnchor(rfc[2])}` : base;
  }
  const oauth = OAUTH21.exec(text);
  if (oauth) {
    const draft = (oauth[1] ?? '13').padStart(2, '0');
    const base = `https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-${draft}`;
    return oauth[2] ? `${base}#section-${oauth[2]}` : base;
  }
  const mcp = MCP.exec(text);
  if (mcp) {
    const page = /security best practices|§BP\b/i.test(text)
      ? `https://modelcontextprotocol.io/specification/${mcp[1]}/basic/security_best_practices`
      : /transport|Origin|Protocol Version|Session/i.test(text)
        ? `https://modelcontextprotocol.io/specification/${mcp[1]}/basic/transports`
        : `https://modelcontextprotocol.io/specification/${mcp[1]}/basic/authorization`;
    return page;
  }
  const cimd = CIMD.exec(text);
  if (cimd) {
    const draft = (cimd[1] ?? '00').padStart(2, '0');
    const base = `https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-${draft}`;
    return cimd[2] ? `${base}#section-${cimd[2]}` : base;
  }
  if (/^OIDC Discovery/i.test(text)) return 'https://openid.net/specs/openid-connect-discovery-1_0.html';
  if (/^OIDC Registration/i.test(text))
    return 'https://openid.net/specs/openid-connect-registration-1_0.html';
  return undefined;
}

/** The first reference of a check that has a link: the check's "help URI". */
export function primarySpecUrl(refs: readonly string[]): string | undefined {
  for (const ref of refs) {
    const url = specUrl(ref);
    if (url) return url;
  }
  return undefined;
}

/** rfc-editor.org anchors: `section-3.3`, and `appendix-B` for lettered appendices. */
function sectionAnchor(section: string): string {
  return /^[A-Z]/i.test(section) ? `appendix-${section.toUpperCase()}` : `section-${section}`;
}

/** The pages of an MCP revision a quote's section names by its prefix ("Transports: Security Warning"). */
const MCP_PAGES: readonly [prefix: string, path: (revision: string) => string][] = [
  ['Transports: ', (rev) => `specification/${rev}/basic/transports`],
  ['Streamable HTTP: ', (rev) => `specification/${rev}/basic/transports/streamable-http`],
  ['Lifecycle: ', (rev) => `specification/${rev}/basic/lifecycle`],
  ['Multi Round-Trip Requests: ', (rev) => `specification/${rev}/basic/patterns/mrtr`],
  // 2026-07-28 moved the page next to the tutorials (its own text links it there).
  [
    'Security Best Practices: ',
    (rev) =>
      rev < '2026-07-28'
        ? `specification/${rev}/basic/security_best_practices`
        : `docs/${rev}/tutorials/security/security_best_practices`,
  ],
];

/**
 * The URL of the text a quote (runner/check.ts Quote) was copied from: the section of an RFC or
 * draft, the page of an MCP revision (its section's prefix names the page; no prefix: the
 * authorization page), the CORS protocol of the Fetch standard. Undefined for an unknown source.
 */
export function quoteUrl(quote: { source: string; section: string }): string | undefined {
  const mcp = /^MCP (\d{4}-\d{2}-\d{2})$/.exec(quote.source);
  if (mcp) {
    const page = MCP_PAGES.find(([prefix]) => quote.section.startsWith(prefix));
    const path = page ? page[1](mcp[1]!) : `specification/${mcp[1]}/basic/authorization`;
    return `https://modelcontextprotocol.io/${path}`;
  }
  if (quote.source === 'Fetch') return 'https://fetch.spec.whatwg.org/#http-cors-protocol';
  const cimd = /^CIMD draft-(\d+)$/.exec(quote.source);
  if (cimd) return specUrl(`CIMD-${cimd[1]} §${quote.section}`);
  return specUrl(`${quote.source} §${quote.section}`);
}
