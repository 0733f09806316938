// exchanges.har: the run's HTTP exchanges as HAR 1.2, for browser devtools and HAR viewers.
// The exchanges come from report.json, so they are already redacted. An exchange that never got a
// response (timeout, refused origin, reset) is an entry with status 0 and `_error`, as browsers
// record failed requests.

import type { Report } from './json.ts';

type Exchange = Report['exchanges'][number];

export function renderHar(report: Report): string {
  const har = {
    log: {
      version: '1.2',
      creator: { name: report.tool.name, version: report.tool.version },
      comment: `MCP authorization conformance run against ${report.target ?? 'the embedded reference server'} (${report.revision})`,
      entries: report.exchanges.map(toEntry),
    },
  };
  return `${JSON.stringify(har, null, 2)}\n`;
}

function toEntry(ex: Exchange) {
  const url = safeUrl(ex.request.url);
  const requestType = header(ex.request.headers, 'content-type') ?? '';
  const response = ex.response;
  return {
    startedDateTime: ex.startedAt,
    time: ex.durationMs,
    request: {
      method: ex.request.method,
      url: ex.request.url,
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: ex.request.headers.map(([name, value]) => ({ name, value })),
      queryString: url ? [...url.searchParams].map(([name, value]) => ({ name, value })) : [],
      ...(ex.request.body !== undefined
        ? { postData: { mimeType: requestType, text: ex.request.body } }
        : {}),
      headersSize: -1,
      bodySize: ex.request.body === undefined ? 0 : Buffer.byteLength(ex.request.body),
    },
    response: {
      status: response?.status ?? 0,
      statusText: '',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: (response?.headers ?? []).map(([name, value]) => ({ name, value })),
      content: {
        size: response?.bytes ?? 0,
        mimeType: (response && header(response.headers, 'content-type')) ?? '',
        text: response?.body ?? '',
        // The report keeps a long body once and cut (runner/http.ts EvidenceStore): say so.
        ...(response?.sameBodyAs ? { comment: `the same body as entry ${response.sameBodyAs}` } : {}),
        ...(response?.bodyKept
          ? { comment: `kept: ${response.bodyKept}; sha256=${response.sha256 ?? ''}` }
          : {}),
      },
      redirectURL: (response && header(response.headers, 'location')) ?? '',
      headersSize: -1,
      bodySize: response?.bytes ?? -1,
    },
    cache: {},
    timings: { send: 0, wait: ex.durationMs, receive: 0 },
    _id: ex.id,
    ...(ex.label ? { _label: ex.label } : {}),
    ...(ex.error ? { _error: ex.error } : {}),
    ...(response?.truncated ? { _truncated: true } : {}),
    ...(ex.refused ? { _refused: ex.refused } : {}),
  };
}

function header(headers: readonly (readonly [string, string])[], name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
