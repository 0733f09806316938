// The runner's HTTP client: every exchange is recorded as evidence, every request is bounded.
//
// Rules (DESIGN.md §Evidence, redaction and safety):
// - No automatic redirects: a `Location` header is data to inspect, never a place to go.
// - Only origins explicitly allowed (the target and the authorization servers it names) are
//   contacted; anything else fails with `forbidden-origin` before a byte is sent.
// - A time bound on every request (default 10 s, headers and body together) and a size cap on
//   every response body (default 1 MiB): a target that hangs, resets, sends garbage or gigabytes
//   ends the request with an `HttpTransportError` of a named kind, inside the bound.
// - Exchanges are kept raw in memory; redact.ts decides what may leave the process.
//
// Raw header lines are kept apart: `WWW-Authenticate` may legally be sent as several field
// lines (RFC 9110 §5.3), and a negative probe may need to send two `Authorization` lines.

import { Agent, type Dispatcher, request as undiciRequest } from 'undici';

export type HeaderList = readonly (readonly [string, string])[];

export interface RecordedRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body?: string;
}

export interface RecordedResponse {
  status: number;
  headers: [string, string][];
  /** The body as text (UTF-8, lossy for binary), at most the size cap. */
  body: string;
  /** Bytes received (up to where reading stopped). */
  bytes: number;
  /** True when reading stopped at the size cap. */
  truncated: boolean;
}

export interface Exchange {
  /** Stable within a run: `x1`, `x2`, ... in the order requests were sent. */
  id: string;
  /** What the request was for, in a few words ("PRM at path-inserted URL"). */
  label?: string;
  startedAt: string;
  durationMs: number;
  request: RecordedRequest;
  response?: RecordedResponse;
  /** Set when the exchange did not complete: the transport error's message. */
  error?: string;
}

export type TransportErrorKind = 'timeout' | 'too-large' | 'network' | 'forbidden-origin' | 'invalid-url';

/** The request did not produce a usable response. Checks turn this into `error`, never `fail`. */
export class HttpTransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
    readonly exchangeId?: string,
    /** What arrived before the failure (status and headers of a body that never ended), if anything. */
    readonly response?: RecordedResponse,
  ) {
    super(message);
    this.name = 'HttpTransportError';
  }
}

export interface RequestOptions {
  method?: string;
  /** A list keeps repeated names apart; a record is convenient for the ordinary case. */
  headers?: HeaderList | Record<string, string>;
  /** Raw body, sent as is. */
  body?: string | Uint8Array;
  /** JSON body; sets `Content-Type: application/json` unless a header sets it. */
  json?: unknown;
  /** Form body (application/x-www-form-urlencoded); a list may repeat names on purpose. */
  form?: HeaderList | Record<string, string>;
  /** Per-request time bound in ms (default: the client's). */
  timeoutMs?: number;
  /** Per-request body cap in bytes (default: the client's). */
  maxBodyBytes?: number;
  label?: string;
}

export interface ResponseHeaders {
  /** All field lines of that name joined with ", " (RFC 9110 §5.3), or null when absent. */
  get(name: string): string | null;
  /** Each field line of that name separately, in order. */
  getAll(name: string): string[];
  has(name: string): boolean;
  entries(): [string, string][];
}

export interface HttpResponse {
  url: string;
  status: number;
  headers: ResponseHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not valid JSON. */
  json(): unknown;
  exchange: Exchange;
}

/** What checks, fixtures and drivers use. A scoped view also reports each exchange to its owner. */
export interface HttpClient {
  request(url: string | URL, options?: RequestOptions): Promise<HttpResponse>;
  /** A view of the same client that also calls `onExchange` for every exchange made through it. */
  scoped(onExchange: (exchange: Exchange) => void): HttpClient;
  /**
   * Records an exchange the runner observed but did not send itself (the browser login driver's
   * traffic), so it is evidence like any other: it gets the next id and reaches every scope.
   */
  record?(observed: Omit<Exchange, 'id'>): Exchange;
}

export interface HttpRecorderOptions {
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** Origins that may be contacted; `allowOrigin` adds more. */
  allowedOrigins?: readonly string[];
  /** Contact any origin (tests of the client itself only). */
  allowAnyOrigin?: boolean;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export class HttpRecorder implements HttpClient {
  readonly exchanges: Exchange[] = [];
  private readonly allowed = new Set<string>();
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly allowAny: boolean;
  private readonly dispatcher: Agent;
  private seq = 0;

  constructor(options: HttpRecorderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.allowAny = options.allowAnyOrigin ?? false;
    for (const origin of options.allowedOrigins ?? []) this.allowOrigin(origin);
    this.dispatcher = new Agent({
      connect: { timeout: this.timeoutMs },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  /** Allows requests to this origin (an origin or any URL on it). */
  allowOrigin(urlOrOrigin: string): void {
    this.allowed.add(new URL(urlOrOrigin).origin);
  }

  isAllowed(url: string | URL): boolean {
    return this.allowAny || this.allowed.has(new URL(url).origin);
  }

  scoped(onExchange: (exchange: Exchange) => void): HttpClient {
    return scopedView(this, onExchange);
  }

  record(observed: Omit<Exchange, 'id'>): Exchange {
    const exchange: Exchange = { id: `x${++this.seq}`, ...observed };
    this.exchanges.push(exchange);
    return exchange;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  async request(target: string | URL, options: RequestOptions = {}): Promise<HttpResponse> {
    const id = `x${++this.seq}`;
    const method = (
      options.method ?? (options.json !== undefined || options.form ? 'POST' : 'GET')
    ).toUpperCase();
    const { headers, body } = buildRequest(options);
    const started = performance.now();
    const exchange: Exchange = {
      id,
      ...(options.label ? { label: options.label } : {}),
      startedAt: new Date().toISOString(),
      durationMs: 0,
      request: {
        method,
        url: String(target),
        headers,
        ...(body !== undefined ? { body: asText(body) } : {}),
      },
    };
    this.exchanges.push(exchange);
    const fail = (kind: TransportErrorKind, message: string): never => {
      exchange.error = message;
      exchange.durationMs = Math.round(performance.now() - started);
      throw new HttpTransportError(kind, message, id, exchange.response);
    };

    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return fail('invalid-url', `not an absolute URL: ${String(target)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return fail('invalid-url', `refusing to fetch a ${url.protocol} URL`);
    }
    if (!this.isAllowed(url)) {
      return fail(
        'forbidden-origin',
        `${url.origin} is neither the target nor an authorization server it names; not contacted`,
      );
    }

    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const maxBytes = options.maxBodyBytes ?? this.maxBodyBytes;
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Dispatcher.ResponseData;
    try {
      response = await undiciRequest(url, {
        method: method as Dispatcher.HttpMethod,
        headers: headers.flat(),
        ...(body !== undefined ? { body } : {}),
        signal,
        dispatcher: this.dispatcher,
      });
    } catch (err) {
      return fail(
        signal.aborted ? 'timeout' : 'network',
        describeNetworkError(err, url, timeoutMs, signal.aborted),
      );
    }

    const responseHeaders = flattenHeaders(response.headers);
    exchange.response = {
      status: response.statusCode,
      headers: responseHeaders,
      body: '',
      bytes: 0,
      truncated: false,
    };
    const chunks: Buffer[] = [];
    let bytes = 0;
    try {
      for await (const chunk of response.body) {
        const buf = chunk as Buffer;
        const room = maxBytes - bytes;
        chunks.push(buf.length > room ? buf.subarray(0, room) : buf);
        bytes += Math.min(buf.length, room);
        if (buf.length > room) {
          exchange.response.truncated = true;
          break;
        }
      }
    } catch (err) {
      exchange.response.body = Buffer.concat(chunks).toString('utf8');
      exchange.response.bytes = bytes;
      return fail(
        signal.aborted ? 'timeout' : 'network',
        signal.aborted
          ? `response body not complete within ${timeoutMs} ms`
          : `response body broken: ${(err as Error).message}`,
      );
    }
    const text = Buffer.concat(chunks).toString('utf8');
    exchange.response.body = text;
    exchange.response.bytes = bytes;
    if (exchange.response.truncated) {
      response.body.destroy();
      return fail('too-large', `response body exceeds the ${maxBytes}-byte cap`);
    }
    exchange.durationMs = Math.round(performance.now() - started);

    return {
      url: url.href,
      status: response.statusCode,
      headers: makeHeaders(responseHeaders),
      text,
      json: () => parseJson(text),
      exchange,
    };
  }
}

function scopedView(client: HttpClient, onExchange: (exchange: Exchange) => void): HttpClient {
  return {
    async request(url, options) {
      try {
        const response = await client.request(url, options);
        onExchange(response.exchange);
        return response;
      } catch (err) {
        if (err instanceof HttpTransportError && err.exchangeId && client instanceof HttpRecorder) {
          const ex = client.exchanges.find((e) => e.id === err.exchangeId);
          if (ex) onExchange(ex);
        }
        throw err;
      }
    },
    scoped(next) {
      return scopedView(this, next);
    },
    ...(client.record
      ? {
          record(observed: Omit<Exchange, 'id'>) {
            const exchange = client.record!(observed);
            onExchange(exchange);
            return exchange;
          },
        }
      : {}),
  };
}

function buildRequest(options: RequestOptions): { headers: [string, string][]; body?: string | Uint8Array } {
  const headers: [string, string][] = toList(options.headers);
  const hasHeader = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    if (!hasHeader('content-type')) headers.push(['content-type', 'application/json']);
  } else if (options.form) {
    const params = new URLSearchParams();
    for (const [name, value] of toList(options.form)) params.append(name, value);
    body = params.toString();
    if (!hasHeader('content-type')) headers.push(['content-type', 'application/x-www-form-urlencoded']);
  }
  return body === undefined ? { headers } : { headers, body };
}

function toList(input: HeaderList | Record<string, string> | undefined): [string, string][] {
  if (!input) return [];
  if (Array.isArray(input)) return input.map(([n, v]) => [n, v] as [string, string]);
  return Object.entries(input as Record<string, string>);
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push([name.toLowerCase(), v]);
  }
  return out;
}

export function makeHeaders(list: readonly (readonly [string, string])[]): ResponseHeaders {
  const getAll = (name: string) =>
    list.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  return {
    get(name) {
      const all = getAll(name);
      return all.length === 0 ? null : all.join(', ');
    },
    getAll,
    has: (name) => getAll(name).length > 0,
    entries: () => list.map(([n, v]) => [n, v]),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function asText(body: string | Uint8Array): string {
  return typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
}

function describeNetworkError(err: unknown, url: URL, timeoutMs: number, timedOut: boolean): string {
  if (timedOut) return `no complete response from ${url.origin} within ${timeoutMs} ms`;
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  const message = e.cause?.message ?? e.message ?? String(err);
  return `${url.origin} could not be reached${code ? ` (${code})` : ''}: ${message}`;
}
