// report.html: one self-contained page (no network, no external assets) that a person reads to
// understand a run: the headline, filters by status and area, and every check with its
// requirement, what it sends and its control, spec links, message, remediation and the HTTP
// exchanges behind its verdict, expandable in the order they were sent. Everything comes from
// report.json (already redacted), except what a check sends and its control, read from the check
// catalogue by id; all of it is HTML-escaped here: target-supplied text can never become markup.

import type { Check } from '../runner/check.ts';
import { CHECKS } from '../suites/index.ts';
import { areaOf } from './junit.ts';
import { HUMAN_ACTIONS, type Report } from './json.ts';
import { quoteUrl, specUrl } from './spec-links.ts';

/** What a check sends and its control, by id: from the check catalogue (report.json keeps neither). */
export type CheckCatalogue = ReadonlyMap<string, Pick<Check, 'probe' | 'control'>>;
const CATALOGUE: CheckCatalogue = new Map(CHECKS.map((c) => [c.id, c]));

type Result = Report['results'][number];
type Exchange = Report['exchanges'][number];

const STATUS_ORDER = ['fail', 'error', 'warn', 'skip', 'info', 'pass'] as const;

export function renderHtml(report: Report, catalogue: CheckCatalogue = CATALOGUE): string {
  const exchanges = new Map(report.exchanges.map((e) => [e.id, e]));
  const areas = [...new Set(report.results.map((r) => areaOf(r.id)))].sort();
  const results = [...report.results].sort(
    (a, b) =>
      STATUS_ORDER.indexOf(a.status as (typeof STATUS_ORDER)[number]) -
        STATUS_ORDER.indexOf(b.status as (typeof STATUS_ORDER)[number]) || a.id.localeCompare(b.id),
  );
  const s = report.summary.byStatus;

  // The run's one verdict (runner/verdict.ts), shown as decided: never re-derived here.
  const v = report.verdict;
  const tone = v.exitCode === 0 ? (v.certifiable ? 'ok' : 'mid') : 'bad';
  const accepted = new Map(v.accepted.map((a) => [a.id, a.reason]));
  // Each exchange's full text appears once in the page (under the first check shown that cites
  // it); a later citation of a long one links there, so one large body is not repeated per check.
  const shown = new Set<string>();

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>MCP authorization conformance: ${esc(report.target ?? 'embedded reference server')}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>MCP authorization conformance</h1>
  <p class="verdict ${tone}" data-testid="verdict">${esc(v.headline)}</p>
  ${v.details.length > 0 ? `<ul class="verdict-details">${v.details.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>` : ''}
  <dl class="facts">
    <dt>Target</dt><dd>${esc(report.embedded ? `embedded reference server (${report.target ?? 'not started'})` : (report.target ?? ''))}</dd>
    <dt>Spec revision</dt><dd>${esc(report.revision)}${report.options.strict ? ' (strict: a violated SHOULD fails)' : ''}${report.revisionDetection ? ` <span data-testid="revision-detection">(${esc(report.revisionDetection.detail)})</span>` : ''}</dd>
    ${report.faults.length > 0 ? `<dt>Faults on</dt><dd>${esc(report.faults.join(', '))}</dd>` : ''}
    ${report.variants.length > 0 ? `<dt>Variants on</dt><dd>${esc(report.variants.join(', '))}</dd>` : ''}
    <dt>Started</dt><dd>${esc(report.startedAt)}, ${(report.durationMs / 1000).toFixed(1)} s, ${report.authorizationFlows} authorization flow(s)${
      report.options.login === 'manual'
        ? `, <span data-testid="human-actions" title="${esc(HUMAN_ACTIONS)}">${report.humanActions} of them needed a person</span>`
        : ''
    }</dd>
    <dt>Tool</dt><dd>${esc(report.tool.name)} ${esc(report.tool.version)}, exit code ${v.exitCode} (--fail-on ${esc(v.failOn)}${report.baseline ? `, baseline ${esc(report.baseline.file)}` : ''})</dd>
  </dl>
  ${report.runError ? `<p class="run-error"><strong>The run could not complete:</strong> ${esc(report.runError)}</p>` : ''}
  ${(report.harnessErrors ?? []).map((h) => `<p class="run-error"><strong>Harness error:</strong> ${esc(h)}</p>`).join('\n  ')}
  ${
    (report.egress?.refused.length ?? 0) > 0
      ? `<section class="egress" data-testid="egress"><strong>Hosts the runner refused to contact</strong> (egress policy):<ul>${report
          .egress!.refused.map(
            (r) =>
              `<li>${esc(r.host)} (${esc(r.addressClass)}, ${r.exchanges.length} request(s)): ${esc(r.message)}</li>`,
          )
          .join('')}</ul></section>`
      : ''
  }
  <table class="counts" data-testid="counts">
    <thead><tr><th></th>${STATUS_ORDER.map((st) => `<th class="st-${st}">${st}</th>`).join('')}<th>total</th></tr></thead>
    <tbody>
      <tr><th>all</th>${STATUS_ORDER.map((st) => `<td data-status="${st}">${s[st] ?? 0}</td>`).join('')}<td>${report.summary.total}</td></tr>
      ${Object.entries(report.summary.byLevel)
        .map(
          ([level, counts]) =>
            `<tr><th>${esc(level)}</th>${STATUS_ORDER.map((st) => `<td>${counts[st] ?? 0}</td>`).join('')}<td>${Object.values(counts).reduce((a, b) => a + b, 0)}</td></tr>`,
        )
        .join('\n      ')}
    </tbody>
  </table>
</header>
<nav class="filters" aria-label="Filters">
  <fieldset><legend>Status</legend>
    ${STATUS_ORDER.map((st) => `<label><input type="checkbox" name="status" value="${st}" checked> ${st} (${s[st] ?? 0})</label>`).join('\n    ')}
  </fieldset>
  <label>Area <select name="area"><option value="">all</option>${areas.map((a) => `<option value="${esc(a)}">${esc(a)}</option>`).join('')}</select></label>
  <span class="shown" data-testid="shown"></span>
</nav>
<main>
${results.map((r) => renderResult(r, exchanges, shown, accepted.get(r.id), catalogue.get(r.id))).join('\n')}
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

function renderResult(
  r: Result,
  exchanges: ReadonlyMap<string, Exchange>,
  shown: Set<string>,
  acceptedBecause?: string,
  check?: Pick<Check, 'probe' | 'control'>,
): string {
  const refs = r.refs
    .map((ref) => {
      const url = specUrl(ref);
      return url ? `<a href="${esc(url)}" rel="noreferrer">${esc(ref)}</a>` : esc(ref);
    })
    .join('; ');
  const own = r.exchanges.map((id) => exchanges.get(id)).filter((e): e is Exchange => e !== undefined);
  const notes =
    r.notes.length > 0 ? `<ul class="notes">${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  const data =
    Object.keys(r.data).length > 0
      ? `<details class="data"><summary>Details</summary><pre>${esc(JSON.stringify(r.data, null, 2))}</pre></details>`
      : '';
  return `<article class="check st-${esc(r.status)}" id="${esc(r.id)}" data-status="${esc(r.status)}" data-area="${esc(areaOf(r.id))}">
  <h2><span class="badge st-${esc(r.status)}">${esc(r.status)}</span> <a href="#${esc(r.id)}">${esc(r.id)}</a> ${esc(r.title)} <span class="level">${esc(r.level)}</span></h2>
  <p class="message">${esc(r.message)}</p>
  ${renderRule(r)}
  ${acceptedBecause === undefined ? '' : `<p class="accepted"><strong>Accepted by the baseline:</strong> ${esc(acceptedBecause)}</p>`}
  <p class="requirement"><strong>Requirement:</strong> ${esc(r.requirement)}</p>
  ${check?.probe ? `<p class="probe"><strong>Sends:</strong> ${esc(check.probe)}</p>` : ''}
  ${check ? `<p class="control" data-testid="control"><strong>Control:</strong> ${esc(check.control)}</p>` : ''}
  <p class="refs"><strong>Spec:</strong> ${refs}</p>
  ${r.status === 'pass' || r.status === 'skip' ? '' : `<p class="remediation"><strong>Fix:</strong> ${esc(r.remediation)}</p>`}
  ${r.howToProvide ? `<p class="how"><strong>To run it:</strong> ${esc(r.howToProvide)}</p>` : ''}
  ${notes}${data}
  ${own.length > 0 ? `<details class="exchanges"><summary>HTTP exchanges (${own.length})</summary>${own.map((e) => renderExchange(e, r.id, shown)).join('\n')}</details>` : ''}
</article>`;
}

const PARTY: Record<string, string> = {
  'authorization-server': 'binds the authorization server',
  'resource-server': 'binds the resource server',
  client: 'binds the client',
  context: 'context',
};

/**
 * The rule behind the verdict, folded: the sentences quoted from the specs (with their keyword and
 * the party they bind), and why the rule is derived or how its sentences conflict.
 */
function renderRule(r: Result): string {
  const quotes = r.quotes ?? [];
  if (quotes.length === 0 && r.derived === undefined && r.conflict === undefined) return '';
  const kind =
    r.conflict !== undefined ? ', sentences in conflict' : r.derived !== undefined ? ', derived rule' : '';
  const items = quotes
    .map((q) => {
      const url = quoteUrl(q);
      const where = `${q.source} §${q.section}`;
      const cite = url ? `<a href="${esc(url)}" rel="noreferrer">${esc(where)}</a>` : esc(where);
      return `<li><q>${esc(q.text)}</q> <cite>${cite}</cite> <span class="binds">${q.keyword ? `${esc(q.keyword)}, ` : ''}${esc(PARTY[q.binds] ?? q.binds)}</span></li>`;
    })
    .join('');
  return `<details class="rule"><summary>The rule, as the specs word it (${esc(r.level)}${kind})</summary>${
    r.conflict !== undefined ? `<p class="conflict"><strong>Conflict:</strong> ${esc(r.conflict)}</p>` : ''
  }${r.derived !== undefined ? `<p class="derived"><strong>Derived:</strong> ${esc(r.derived)}</p>` : ''}${
    items ? `<ul class="quotes">${items}</ul>` : ''
  }</details>`;
}

/** An exchange whose text is shorter than this is repeated under every check citing it. */
const REPEAT_BELOW_CHARS = 2 * 1024;

function renderExchange(e: Exchange, checkId: string, shown: Set<string>): string {
  const req = e.request;
  const reqText = [
    `${req.method} ${req.url}`,
    ...req.headers.map(([n, v]) => `${n}: ${v}`),
    ...(req.body !== undefined ? ['', req.body] : []),
  ].join('\n');
  const res = e.response;
  const resText = res
    ? [`HTTP ${res.status}`, ...res.headers.map(([n, v]) => `${n}: ${v}`), '', bodyText(res)].join('\n')
    : `(no response: ${e.error ?? 'unknown error'})`;
  const summary = `<summary>${esc(e.id)} ${esc(req.method)} ${esc(req.url)} → ${res ? res.status : 'no response'}${e.label ? ` <em>${esc(e.label)}</em>` : ''} <span class="ms">${e.durationMs} ms</span></summary>`;
  const first = !shown.has(e.id);
  if (!first && reqText.length + resText.length >= REPEAT_BELOW_CHARS) {
    return `<details class="exchange" data-exchange="${esc(e.id)}">${summary}
<p class="seen">Request and response shown under the first check citing it: <a href="#ex-${esc(e.id)}">${esc(e.id)}</a>.</p></details>`;
  }
  shown.add(e.id);
  return `<details class="exchange" data-exchange="${esc(e.id)}"${first ? ` id="ex-${esc(e.id)}" data-check="${esc(checkId)}"` : ''}>${summary}
<pre class="req">${esc(reqText)}</pre>
<pre class="res">${esc(resText)}</pre></details>`;
}

/** The body as kept, with what was left out said plainly. */
function bodyText(res: NonNullable<Exchange['response']>): string {
  if (res.sameBodyAs)
    return `[the same ${res.bytes}-byte body as exchange ${res.sameBodyAs}, sha256=${res.sha256 ?? ''}]`;
  const notes = [
    res.bodyKept ? `[kept: ${res.bodyKept}; sha256=${res.sha256 ?? ''}]` : '',
    res.truncated ? '[... truncated at the size cap]' : '',
    res.decoded ? `[decoded from Content-Encoding: ${res.decoded}]` : '',
  ].filter(Boolean);
  return notes.length > 0 ? `${res.body}\n${notes.join('\n')}` : res.body;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
:root { font-family: system-ui, sans-serif; color: #1b1f24; background: #fff; }
body { margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem 4rem; }
h1 { margin: 0.2rem 0; font-size: 1.5rem; }
.verdict { display: inline-block; padding: 0.3rem 0.7rem; border-radius: 0.3rem; font-weight: 600; }
.verdict.ok { background: #dcfce7; color: #14532d; } .verdict.bad { background: #fee2e2; color: #7f1d1d; }
.verdict.mid { background: #fef9c3; color: #713f12; } .verdict-details { margin: 0.4rem 0; }
.accepted { background: #fef9c3; padding: 0.3rem 0.5rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
.facts dt { font-weight: 600; } .facts dd { margin: 0; word-break: break-all; }
.counts { border-collapse: collapse; margin: 0.8rem 0; } .counts th, .counts td { border: 1px solid #d0d7de; padding: 0.2rem 0.6rem; text-align: right; }
.filters { position: sticky; top: 0; background: #f6f8fa; border: 1px solid #d0d7de; padding: 0.4rem 0.8rem; display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; z-index: 1; }
.filters fieldset { border: 0; padding: 0; margin: 0; display: flex; gap: 0.6rem; } .filters legend { float: left; font-weight: 600; margin-right: 0.4rem; }
.check { border: 1px solid #d0d7de; border-left-width: 6px; border-radius: 0.3rem; padding: 0.4rem 0.9rem; margin: 0.8rem 0; }
.check h2 { font-size: 1.05rem; margin: 0.3rem 0; } .check h2 a { color: inherit; }
.level { font-size: 0.75rem; border: 1px solid #8c959f; border-radius: 0.2rem; padding: 0 0.3rem; }
.badge { font-size: 0.75rem; text-transform: uppercase; padding: 0.1rem 0.4rem; border-radius: 0.2rem; color: #fff; }
.st-pass { border-left-color: #1a7f37; } .badge.st-pass { background: #1a7f37; }
.st-fail { border-left-color: #cf222e; } .badge.st-fail { background: #cf222e; }
.st-warn { border-left-color: #bf8700; } .badge.st-warn { background: #9a6700; }
.st-error { border-left-color: #8250df; } .badge.st-error { background: #8250df; }
.st-skip { border-left-color: #8c959f; } .badge.st-skip { background: #6e7781; }
.st-info { border-left-color: #0969da; } .badge.st-info { background: #0969da; }
pre { background: #f6f8fa; padding: 0.5rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; font-size: 0.8rem; }
.exchange summary { font-family: ui-monospace, monospace; font-size: 0.8rem; } .ms { color: #57606a; }
.run-error { background: #fee2e2; padding: 0.5rem; }

.rule summary { font-size: 0.9rem; } .quotes { margin: 0.3rem 0; padding-left: 1.2rem; } .quotes li { margin: 0.2rem 0; }
.quotes q { font-style: italic; } .quotes cite, .binds { font-size: 0.8rem; color: #57606a; font-style: normal; }
.egress { background: #fff8c5; padding: 0.5rem; margin: 0.5rem 0; }
.seen { font-size: 0.8rem; color: #57606a; margin: 0.2rem 0 0.4rem 1rem; }
[hidden] { display: none !important; }
`;

// Filters: a check is shown when its status is ticked and its area matches the selection.
const SCRIPT = `
(function () {
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[name=status]'));
  var area = document.querySelector('select[name=area]');
  var checks = Array.prototype.slice.call(document.querySelectorAll('article.check'));
  var shown = document.querySelector('[data-testid=shown]');
  function apply() {
    var statuses = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    var visible = 0;
    checks.forEach(function (c) {
      var show = statuses.indexOf(c.dataset.status) !== -1 && (!area.value || c.dataset.area === area.value);
      c.hidden = !show;
      if (show) visible++;
    });
    shown.textContent = visible + ' of ' + checks.length + ' checks shown';
  }
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  area.addEventListener('change', apply);
  apply();
})();
`;
