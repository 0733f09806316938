// The renderers derived from report.json: JUnit, SARIF, HAR, HTML (structure and escaping; the
// HTML's behaviour in a real browser is in html-browser.test.ts), and the spec links they share.

import { describe, expect, it } from 'vitest';
import { renderHar } from '../../reports/har.ts';
import { renderHtml } from '../../reports/html.ts';
import { areaOf, renderJunit } from '../../reports/junit.ts';
import { renderMarkdown } from '../../reports/markdown.ts';
import { fingerprint, renderSarif, targetIdentity } from '../../reports/sarif.ts';
import { primarySpecUrl, quoteUrl, specUrl } from '../../reports/spec-links.ts';
import { sarifProblems } from '../helpers/sarif.ts';
import { CHECKS } from '../../suites/index.ts';
import { HOSTILE, sampleReport } from './sample-report.ts';

describe('spec links', () => {
  it.each([
    ['RFC9728 §3.3', 'https://www.rfc-editor.org/rfc/rfc9728#section-3.3'],
    ['RFC 6750 §3.1', 'https://www.rfc-editor.org/rfc/rfc6750#section-3.1'],
    ['RFC7636 §B', 'https://www.rfc-editor.org/rfc/rfc7636#appendix-B'],
    ['RFC8707', 'https://www.rfc-editor.org/rfc/rfc8707'],
    [
      'OAuth 2.1 draft-13 §5.3.1',
      'https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-5.3.1',
    ],
    ['OAuth 2.1 §4.1.3', 'https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.1.3'],
    [
      'MCP 2025-06-18 §Error Handling',
      'https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization',
    ],
    [
      'MCP 2025-11-25 transports §Origin',
      'https://modelcontextprotocol.io/specification/2025-11-25/basic/transports',
    ],
    [
      'CIMD-00 §4.1',
      'https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-00#section-4.1',
    ],
    ['OIDC Discovery §4.3', 'https://openid.net/specs/openid-connect-discovery-1_0.html'],
  ])('%s → %s', (ref, url) => {
    expect(specUrl(ref)).toBe(url);
  });

  it.each([
    [{ source: 'RFC 9728', section: '3.3' }, 'https://www.rfc-editor.org/rfc/rfc9728#section-3.3'],
    [
      { source: 'OAuth 2.1 draft-13', section: '5.3.1' },
      'https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-5.3.1',
    ],
    [
      { source: 'MCP 2025-06-18', section: 'Token Handling' },
      'https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization',
    ],
    [
      { source: 'MCP 2026-07-28', section: 'Streamable HTTP: Server Validation' },
      'https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http',
    ],
    [
      { source: 'MCP 2025-11-25', section: 'Security Best Practices: Session Hijacking' },
      'https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices',
    ],
    [
      { source: 'MCP 2026-07-28', section: 'Security Best Practices: State Handle Hijacking' },
      'https://modelcontextprotocol.io/docs/2026-07-28/tutorials/security/security_best_practices',
    ],
    [
      { source: 'CIMD draft-00', section: '4.1' },
      'https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-00#section-4.1',
    ],
    [
      { source: 'Fetch', section: 'CORS protocol: HTTP responses' },
      'https://fetch.spec.whatwg.org/#http-cors-protocol',
    ],
  ])('quote %j → %s', (quote, url) => {
    expect(quoteUrl(quote)).toBe(url);
  });

  it('gives no link rather than a wrong one for an unknown reference', () => {
    expect(specUrl('derived from common sense')).toBeUndefined();
    expect(primarySpecUrl(['derived', 'RFC9207 §2'])).toBe(
      'https://www.rfc-editor.org/rfc/rfc9207#section-2',
    );
  });
});

describe('junit.xml', () => {
  const xml = renderJunit(sampleReport());

  it('has one testsuite per area and one testcase per check', () => {
    expect(areaOf('RS-PRM-05')).toBe('RS-PRM');
    expect(areaOf('AS-CIMD-01')).toBe('AS-CIMD');
    const suites = [...xml.matchAll(/<testsuite name="([^"]+)" tests="(\d+)"/g)].map((m) => [m[1], m[2]]);
    expect(suites).toEqual([
      ['RS-PRM', '2'],
      ['RS-401', '1'],
      ['AS-CIMD', '1'],
      ['AS-META', '1'],
      ['AS-AUTHZ', '1'],
      ['run', '0'],
    ]);
    expect(xml.match(/<testcase /g)).toHaveLength(6);
    expect(xml).toMatch(
      /<testsuites name="MCP authorization conformance \(2026-07-28\): Not conformant: 1 check failed" tests="6" failures="1" errors="1" skipped="1"/,
    );
    expect(xml).toMatch(/<property name="verdict" value="Not conformant: 1 check failed"\/>/);
  });

  it('maps fail to failure, error to error, skip to skipped, and warn/info to passing cases that say so', () => {
    const caseOf = (id: string) =>
      new RegExp(`<testcase[^>]*name="${id} [^"]*"[^>]*>([\\s\\S]*?)</testcase>`).exec(xml)?.[1] ?? '';
    expect(caseOf('RS-PRM-05')).toMatch(/<failure message="[^"]*" type="MUST">/);
    expect(caseOf('AS-META-01')).toMatch(
      /<error message="no complete response within 10000 ms" type="harness-error">/,
    );
    expect(caseOf('AS-CIMD-01')).toMatch(/<skipped message="message of AS-CIMD-01"\/>/);
    expect(caseOf('RS-401-05')).toMatch(/<property name="status" value="warn"\/>/);
    expect(caseOf('RS-401-05')).toMatch(
      /<system-out>WARN \(SHOULD not met, not failing under --fail-on must\)/,
    );
    expect(caseOf('RS-401-05')).not.toMatch(/<failure|<error|<skipped/);
    expect(caseOf('RS-PRM-01')).not.toMatch(/<failure|<error|<skipped|<system-out/);
  });

  it('escapes markup and drops characters XML cannot carry', () => {
    expect(xml).not.toContain('<script>');
    expect(xml).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot; bell');
    expect(xml).not.toContain('\u0007');
  });
});

describe('report.sarif', () => {
  const sarif = JSON.parse(renderSarif(sampleReport()));
  const run = sarif.runs[0];

  it('is valid SARIF 2.1.0 (the OASIS schema) that code scanning accepts, whatever the run', () => {
    expect(sarifProblems(sarif)).toEqual([]);
    const accepted = sampleReport();
    accepted.verdict.accepted.push({ id: 'RS-PRM-05', status: 'fail', reason: 'known' });
    for (const report of [
      accepted,
      sampleReport({ runError: 'target unreachable', results: [] }),
      sampleReport({ embedded: true, target: null }),
    ]) {
      expect(sarifProblems(JSON.parse(renderSarif(report)))).toEqual([]);
    }
    // The validator can fail: the old shape (the target URL as the artifact) and a broken document.
    const old = structuredClone(sarif);
    old.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri = 'http://127.0.0.1:4000/mcp';
    expect(sarifProblems(old)).toEqual(['results[0]: artifact URI http://127.0.0.1:4000/mcp is not a file']);
    expect(sarifProblems({ ...sarif, version: '2.0.0' })).toContain(
      'schema: /version must be equal to one of the allowed values',
    );
    const noLevel = structuredClone(sarif);
    noLevel.runs[0].results[0].level = 'fatal';
    expect(sarifProblems(noLevel).join()).toMatch(/level must be equal to one of the allowed values/);
  });

  it('is SARIF 2.1.0 with a rule per check and results for fail and warn only', () => {
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toMatch(/sarif-2\.1\.0/);
    expect(run.tool.driver.name).toBe('mcp-auth-conformance');
    expect(run.tool.driver.rules).toHaveLength(6);
    expect(run.results.map((r: { ruleId: string; level: string }) => [r.ruleId, r.level])).toEqual([
      ['RS-PRM-05', 'error'],
      ['RS-401-05', 'warning'],
    ]);
  });

  it('links each rule to its spec section; results point at a repository file, the target URL is a property', () => {
    const rule = run.tool.driver.rules.find((r: { id: string }) => r.id === 'RS-PRM-05');
    expect(rule.helpUri).toBe('https://www.rfc-editor.org/rfc/rfc9728#section-3.3');
    expect(rule.defaultConfiguration.level).toBe('error');
    const result = run.results[0];
    // Code scanning rejects a whole upload whose artifact URI is not a file (github/codeql-action#754).
    expect(result.locations[0].physicalLocation.artifactLocation.uri).toBe(
      'mcp-auth-conformance.config.json',
    );
    expect(result.properties.target).toBe('http://127.0.0.1:4000/mcp');
    expect(run.properties.target).toBe('http://127.0.0.1:4000/mcp');
    expect(run.tool.driver.rules[result.ruleIndex].id).toBe(result.ruleId);
    const chosen = JSON.parse(
      renderSarif(sampleReport({ options: { ...sampleReport().options, sarifArtifact: 'ci/mcp.json' } })),
    );
    expect(chosen.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe('ci/mcp.json');
  });

  it('fingerprints a finding by check ID and target identity, without the port', () => {
    const on = (target: string) =>
      JSON.parse(renderSarif(sampleReport({ target }))).runs[0].results[0].partialFingerprints;
    expect(on('http://127.0.0.1:4000/mcp')).toEqual(on('http://localhost:59123/mcp'));
    expect(on('https://mcp.example.com/mcp')).toEqual(on('https://mcp.example.com:8443/mcp'));
    expect(on('https://mcp.example.com/mcp')).not.toEqual(on('https://other.example.com/mcp'));
    expect(on('https://mcp.example.com/mcp')).not.toEqual(on('https://mcp.example.com/v2/mcp'));
    expect(targetIdentity({ target: 'http://127.0.0.1:1/x', embedded: true })).toBe(
      'embedded-reference-server',
    );
    expect(fingerprint('RS-PRM-05', 'a')).not.toBe(fingerprint('RS-PRM-06', 'a'));
  });

  it('records a run that could not complete as an unsuccessful invocation', () => {
    const failed = JSON.parse(renderSarif(sampleReport({ runError: 'target unreachable' })));
    expect(failed.runs[0].invocations[0].executionSuccessful).toBe(false);
    expect(failed.runs[0].invocations[0].toolExecutionNotifications[0].message.text).toBe(
      'target unreachable',
    );
  });
});

describe('exchanges.har', () => {
  const har = JSON.parse(renderHar(sampleReport()));

  it('is HAR 1.2 with one entry per exchange, in order', () => {
    expect(har.log.version).toBe('1.2');
    expect(har.log.entries.map((e: { _id: string }) => e._id)).toEqual(['x1', 'x2']);
    const [ok, failed] = har.log.entries;
    expect(ok.request.queryString).toEqual([{ name: 'x', value: '1' }]);
    expect(ok.response.status).toBe(200);
    expect(ok.response.content.mimeType).toBe('application/json');
    expect(failed.request.postData).toEqual({
      mimeType: 'application/x-www-form-urlencoded',
      text: 'grant_type=authorization_code',
    });
    expect(failed.response.status).toBe(0);
    expect(failed._error).toMatch(/within 10000 ms/);
  });
});

describe('report.html', () => {
  const html = renderHtml(sampleReport());

  it('escapes every piece of target-supplied text', () => {
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;');
    // The only scripts are the page's own filter code.
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  it('is self-contained: no external scripts, styles, images or fonts', () => {
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).toMatch(/default-src 'none'/);
  });

  it('shows what each check sends and its control, from the catalogue by id, escaped', () => {
    const article = (page: string, id: string) =>
      page.slice(page.indexOf(`id="${id}"`)).split('</article>')[0]!;
    const prm01 = CHECKS.find((c) => c.id === 'RS-PRM-01')!;
    const text = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    expect(article(html, 'RS-PRM-01')).toContain(`<strong>Sends:</strong> ${text(prm01.probe!)}`);
    expect(article(html, 'RS-PRM-01')).toMatch(/<strong>Control:<\/strong> None: /);
    // A catalogue entry is text, never markup; an id the catalogue lacks shows neither line.
    const hostile = renderHtml(
      sampleReport(),
      new Map([['RS-PRM-01', { probe: '<b>GET</b>', control: '<script>x()</script>' }]]),
    );
    expect(article(hostile, 'RS-PRM-01')).toContain('&#60;script&#62;x()&#60;/script&#62;');
    expect(article(hostile, 'RS-PRM-01')).not.toContain('<script>x()');
    expect(article(hostile, 'RS-PRM-05')).not.toContain('Control:');
  });

  it("shows the run's verdict as decided, with its details", () => {
    const report = sampleReport();
    expect(report.verdict.headline).toMatch(/^Not conformant: 1 check failed/);
    const verdict = /<p class="verdict bad" data-testid="verdict">([^<]*)<\/p>/.exec(html)?.[1];
    expect(verdict).toBe(report.verdict.headline);
    expect(html).not.toMatch(/Certifiable/);
    for (const detail of report.verdict.details) expect(html).toContain(detail.replace(/&/g, '&amp;'));
  });

  it('says how many authorizations needed a person with --login manual, and explains what that counts', () => {
    const manual = sampleReport({
      humanActions: 3,
      options: { ...sampleReport().options, login: 'manual' },
    });
    const shown = renderHtml(manual);
    expect(shown).toMatch(
      /<span data-testid="human-actions" title="[^"]*Sec-Fetch-User[^"]*">3 of them needed a person<\/span>/,
    );
    expect(renderMarkdown(manual)).toMatch(/2 authorization flow\(s\), 3 of them needed a person/);
    // Other logins involve no person: nothing to say.
    expect(html).not.toContain('needed a person');
    expect(renderMarkdown(sampleReport())).not.toContain('needed a person');
  });

  it('shows the rule next to the verdict: the quoted sentences, escaped and linked, and a conflict or derived reason', () => {
    const article = /<article[^>]*id="RS-PRM-05"[\s\S]*?<\/article>/.exec(html)?.[0] ?? '';
    const rule = /<details class="rule">[\s\S]*?<\/details>/.exec(article)?.[0] ?? '';
    // Folded, right after the message.
    expect(article.indexOf('class="message"')).toBeLessThan(article.indexOf('class="rule"'));
    expect(article.indexOf('class="rule"')).toBeLessThan(article.indexOf('class="requirement"'));
    expect(rule).toContain('(MUST, sentences in conflict)');
    expect(rule).toContain(
      '<q>The resource value returned MUST be identical to &#60;the identifier&#62; &#38; &#34;so on&#34;.</q>',
    );
    expect(rule).toContain('href="https://www.rfc-editor.org/rfc/rfc9728#section-3.3"');
    expect(rule).toContain('MUST, binds the resource server');
    expect(rule).toContain(
      'href="https://modelcontextprotocol.io/specification/2026-07-28/basic/transports"',
    );
    expect(rule).toContain('<strong>Conflict:</strong> one sentence &#60;b&#62;says&#60;/b&#62; this');
    const derived = /<article[^>]*id="RS-401-05"[\s\S]*?<\/article>/.exec(html)?.[0] ?? '';
    expect(derived).toContain('<strong>Derived:</strong> no sentence says so');
    // A result without quotes has no rule block.
    const plain = /<article[^>]*id="RS-PRM-01"[\s\S]*?<\/article>/.exec(html)?.[0] ?? '';
    expect(plain).not.toContain('class="rule"');
  });

  it('lists each check with its exchanges, and links its spec references', () => {
    const article = /<article[^>]*id="RS-PRM-05"[\s\S]*?<\/article>/.exec(html)?.[0] ?? '';
    expect(article).toContain('HTTP exchanges (2)');
    expect(article).toContain('data-exchange="x1"');
    expect(article).toContain(
      '(no response: no complete response from http://127.0.0.1:4000 within 10000 ms)',
    );
    expect(article).toContain('href="https://www.rfc-editor.org/rfc/rfc9728#section-3.3"');
    expect(article).toContain('remediation of RS-PRM-05');
  });
});
