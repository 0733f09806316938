// The report's bounds and egress findings (reports/json.ts, html.ts, har.ts): a refused host is a
// note on every check it touched and an entry of report.egress; texts a check built from target
// data are cut; report.html shows a long exchange once however many checks cite it.

import { describe, expect, it } from 'vitest';
import { renderHar } from '../../reports/har.ts';
import { renderHtml } from '../../reports/html.ts';
import { buildReport, REPORT_LIMITS, ReportSchema } from '../../reports/json.ts';
import { renderMarkdown } from '../../reports/markdown.ts';
import type { CheckResult } from '../../runner/engine.ts';
import type { Exchange } from '../../runner/http.ts';
import { Redactor } from '../../runner/redact.ts';
import { decideVerdict } from '../../runner/verdict.ts';

function result(id: string, extra: Partial<CheckResult> = {}): CheckResult {
  return {
    id,
    title: `title of ${id}`,
    level: 'MUST',
    status: 'skip',
    message: `message of ${id}`,
    refs: ['RFC9728 §3.3'],
    requirement: 'r',
    remediation: 'r',
    exchanges: [],
    durationMs: 1,
    notes: [],
    data: {},
    authorizationFlows: 0,
    ...extra,
  };
}

function exchange(id: string, extra: Partial<Exchange> = {}): Exchange {
  return {
    id,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1,
    request: { method: 'GET', url: `http://127.0.0.1:1/${id}`, headers: [] },
    response: { status: 200, headers: [], body: 'ok', bytes: 2, truncated: false },
    ...extra,
  };
}

function report(results: CheckResult[], exchanges: Exchange[]) {
  return ReportSchema.parse(
    buildReport(
      {
        version: '0.0.0',
        target: 'http://127.0.0.1:1/mcp',
        embedded: false,
        faults: [],
        revision: '2026-07-28',
        startedAt: new Date(0),
        durationMs: 1,
        options: {
          strict: false,
          only: [],
          skip: [],
          login: 'auto',
          timeoutSeconds: 1,
          concurrency: 1,
          presetToken: false,
          presetClient: false,
          mintKey: false,
        },
        authorizationFlows: 0,
        verdict: decideVerdict({ results, failOn: 'must', mustChecks: [] }),
        results,
        exchanges,
        egress: { openClasses: ['loopback'], allowHosts: [] },
      },
      new Redactor(),
    ),
  );
}

describe('egress findings', () => {
  it('lists each refused host once, and notes it on every check whose evidence it touched', () => {
    const refusal = (id: string, host: string, addressClass: string) =>
      exchange(id, {
        response: undefined,
        error: `refused to contact ${host}: … pass --allow-host ${host} to allow it`,
        refused: { host, addressClass },
      });
    const r = report(
      [
        result('AS-META-01', { exchanges: ['x1', 'x2'] }),
        result('AS-DCR-01', { exchanges: ['x2', 'x3'] }),
        result('RS-PRM-01', { exchanges: ['x4'] }),
      ],
      [
        refusal('x1', 'metadata.google.internal', 'cloud-metadata'),
        refusal('x2', '10.0.0.1', 'private'),
        refusal('x3', '10.0.0.1', 'private'),
        exchange('x4'),
      ],
    );
    expect(r.egress?.refused).toEqual([
      expect.objectContaining({
        host: 'metadata.google.internal',
        addressClass: 'cloud-metadata',
        exchanges: ['x1'],
      }),
      expect.objectContaining({ host: '10.0.0.1', addressClass: 'private', exchanges: ['x2', 'x3'] }),
    ]);
    const notes = new Map(r.results.map((x) => [x.id, x.notes.join('\n')]));
    expect(notes.get('AS-META-01')).toMatch(/egress policy: refused to contact metadata\.google\.internal/);
    expect(notes.get('AS-META-01')).toMatch(/--allow-host 10\.0\.0\.1/);
    expect(notes.get('AS-DCR-01')!.match(/egress policy/g)).toHaveLength(1);
    expect(notes.get('RS-PRM-01')).toBe('');
    expect(renderHar(r)).toContain('"_refused"');
    expect(renderHtml(r)).toMatch(
      /Hosts the runner refused to contact.*metadata\.google\.internal \(cloud-metadata, 1 request\(s\)\)/s,
    );
    expect(renderMarkdown(r)).toContain('## Hosts the runner refused to contact (2)');
  });
});

describe('bounded texts', () => {
  it('cuts long messages, notes and data, with their length and hash', () => {
    const huge = 'Q'.repeat(200_000);
    const r = report(
      [
        result('RS-401-04', {
          message: huge,
          notes: Array.from({ length: 80 }, () => huge),
          data: { problems: [huge] },
        }),
      ],
      [],
    );
    const x = r.results[0]!;
    expect(x.message.length).toBeLessThan(REPORT_LIMITS.messageChars + 200);
    expect(x.message).toMatch(/cut: 200000 characters, sha256=[0-9a-f]{64}/);
    expect(x.notes).toHaveLength(REPORT_LIMITS.notesPerResult + 1);
    expect(x.notes.at(-1)).toBe('and 30 more note(s), not kept');
    expect(JSON.stringify(x.data).length).toBeLessThan(REPORT_LIMITS.dataChars + 300);
    expect(JSON.stringify(r).length).toBeLessThan(250_000);
  });
});

describe('report.html', () => {
  it('shows a long exchange once, and links to it from the other checks citing it', () => {
    const body = 'B'.repeat(60_000);
    const results = Array.from({ length: 40 }, (_, i) =>
      result(`RS-PRM-${String(i + 10)}`, { exchanges: ['x1', 'x2'] }),
    );
    const r = report(results, [
      exchange('x1', {
        response: {
          status: 200,
          headers: [],
          body,
          bytes: 1_000_000,
          truncated: false,
          sha256: 'ab'.repeat(32),
          bodyKept: 'first 60000 of 1000000 bytes: test',
        },
      }),
      exchange('x2', {
        response: {
          status: 200,
          headers: [],
          body: '',
          bytes: 1_000_000,
          truncated: false,
          sha256: 'ab'.repeat(32),
          sameBodyAs: 'x1',
        },
      }),
    ]);
    const html = renderHtml(r);
    expect(html.split(body)).toHaveLength(2);
    expect(html.length).toBeLessThan(body.length + 100_000);
    expect(html).toContain('id="ex-x1"');
    expect(html).toContain('href="#ex-x1"');
    expect(html).toContain('kept: first 60000 of 1000000 bytes: test');
    expect(html).toContain('the same 1000000-byte body as exchange x1');
    // A short exchange is still repeated under every check citing it.
    expect(html.match(/data-exchange="x2"/g)).toHaveLength(40);
    expect(html.match(/<pre class="res">HTTP 200\n\n\[the same/g)).toHaveLength(40);
  });
});
