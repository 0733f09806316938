// The runner's HTTP client: every exchange is recorded as evidence, every request is bounded.
//
// Rules (DESIGN.md §Evidence, redaction and safety):
// - No automatic redirects: a `Location` header is data to inspect, never a place to go.
// - Only origins explicitly allowed (the target and the authorization servers it names) are
//   contacted; anything else fails with `forbidden-origin` before a byte is sent.
// - Every connection is made to an address the egress policy (egress.ts) checked: the host is
//   resolved, every address checked, and the socket opened to the checked address; a refusal
//   fails with `forbidden-address` and is recorded on the exchange (`refused`).
// - A time bound on every request (default 10 s, headers and body together), a cap on the
//   response header block (16 KiB) and on every response body after decompression (default
//   1 MiB, with a compression-ratio limit): a target that hangs, resets, sends garbage,
//   gigabytes or a compression bomb ends the request with an `HttpTransportError` of a named
//   kind, inside the bound.
// - What a check reads is the whole (capped) response; what is kept as evidence for the whole
//   run is bounded (EvidenceStore): long bodies and header values are cut with their length and
//   SHA-256, a body seen before is referenced instead of stored again, and the run has a total
//   budget. Exchanges are kept raw otherwise; redact.ts decides what may leave the process.
//
// Raw header lines are kept apart: `WWW-Authenticate` may legally be sent as several field
// lines (RFC 9110 §5.3), and a negative probe may need to send two `Authorization` lines.

import { rootCertificates } from 'node:tls';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Agent, buildConnector, type Dispatcher, request as undiciRequest } from 'undici';
import { EgressPolicy, EgressRefused } from './egress.ts';
import { clipText } from './redact.ts';
import { retryOnRateLimit } from './retry.ts';

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
  /**
   * The body as text (UTF-8, lossy for binary) as kept for evidence: the whole body when it is
   * short, else its beginning (`bodyKept` says why); empty when `sameBodyAs` names an earlier
   * exchange with the same body.
   */
  body: string;
  /** Bytes received, after decompression (up to where reading stopped). */
  bytes: number;
  /** True when reading stopped at the size cap. */
  truncated: boolean;
  /** SHA-256 (hex) of the bytes received, when the evidence keeps less than all of them. */
  sha256?: string;
  /** Why the evidence keeps only the beginning of the body (its length and hash are above). */
  bodyKept?: string;
  /** The body is the same as that exchange's (stored once, in that exchange). */
  sameBodyAs?: string;
  /** The Content-Encoding the runner decoded (gzip, deflate, br). */
  decoded?: string;
}

/** An exchange the egress policy refused before any connection (see egress.ts). */
export interface EgressRefusal {
  host: string;
  addressClass: string;
  /** The resolved address that decided, when the host is a name. */
  address?: string;
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
  /** Set when the egress policy refused the host (the request was never sent). */
  refused?: EgressRefusal;
}

export type TransportErrorKind =
  | 'timeout'
  | 'too-large'
  | 'network'
  | 'forbidden-origin'
  /** The egress policy refused the address (egress.ts). */
  | 'forbidden-address'
  | 'invalid-url'
  /** The target kept answering 429 longer than the request could wait (retry.ts). */
  | 'rate-limited';

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
  /** The egress policy the client enforces: traffic it does not send itself (the browser's) is held to it too. */
  readonly egress?: EgressPolicy;
}

export interface HttpRecorderOptions {
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** Origins that may be contacted; `allowOrigin` adds more. */
  allowedOrigins?: readonly string[];
  /** Contact any origin (tests of the client itself only); the egress policy still applies. */
  allowAnyOrigin?: boolean;
  /**

   * PEM certificates of a private CA (`--ca`), trusted for https in addition to Node's bundled
   * roots; verification itself is never turned off.
   */
  ca?: string;
  /**
   * Headers added to every request to one of `origins` (`--header`, for a gateway in front of the
   * target), unless the request sets that name itself. They are sent, so they are recorded.
   */
  extraHeaders?: { origins: readonly string[]; headers: HeaderList };
  /**
   * Which addresses may be connected to (egress.ts). Default: a policy whose target is the
   * first allowed origin, with no --allow-host.
   */
  egress?: EgressPolicy;
  /** Cap on a response's header block, in bytes (default 16 KiB). */
  maxHeaderBytes?: number;
  /** Bounds on what is kept as evidence (see EvidenceLimits). */
  evidence?: Partial<EvidenceLimits>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/**
 * A compressed body may expand at most this much (once past MIN_BOMB_BYTES): JSON and HTML
 * compress 5-20:1, highly repetitive text to about 100:1, a compression bomb to 1000:1.
 */
export const MAX_COMPRESSION_RATIO = 200;
const MIN_BOMB_BYTES = 64 * 1024;
/** More than this many stacked Content-Encodings is not a real server. */
const MAX_ENCODINGS = 2;

export class HttpRecorder implements HttpClient {
  readonly exchanges: Exchange[] = [];
  private readonly allowed = new Set<string>();
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly allowAny: boolean;
  private readonly dispatcher: Agent;

  private readonly extraHeaders: { origins: Set<string>; headers: HeaderList };
  private readonly evidence: EvidenceStore;
  /** The origin of the target (the first allowed origin): its bodies get the larger evidence cap. */
  private readonly targetOrigin: string | undefined;
  readonly egress: EgressPolicy;
  private seq = 0;

  constructor(options: HttpRecorderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.allowAny = options.allowAnyOrigin ?? false;
    for (const origin of options.allowedOrigins ?? []) this.allowOrigin(origin);
    this.extraHeaders = {
      origins: new Set((options.extraHeaders?.origins ?? []).map((o) => new URL(o).origin)),
      headers: options.extraHeaders?.headers ?? [],
    };
    const first = options.allowedOrigins?.[0];
    this.targetOrigin = first && URL.canParse(first) ? new URL(first).origin : undefined;
    this.egress = options.egress ?? new EgressPolicy(first ? { target: first } : {});
    this.evidence = new EvidenceStore({ ...DEFAULT_EVIDENCE_LIMITS, ...options.evidence });
    const connect = buildConnector({
      timeout: this.timeoutMs,
      // --ca: a private CA trusted in addition to Node's bundled roots; verification stays on.
      ...(options.ca ? { ca: [...rootCertificates, options.ca] } : {}),
    });
    const egress = this.egress;
    this.dispatcher = new Agent({
      // Resolve, check every address, connect to the checked one (egress.ts): the socket never
      // goes to a name, so a second DNS answer cannot slip past the check.
      connect: (opts, callback) => {
        egress.check(opts.hostname).then(
          (addresses) => {
            const address = addresses[0]!.address;
            const servername = opts.servername ?? (isIP(opts.hostname) ? undefined : opts.hostname);
            connect({ ...opts, hostname: address, ...(servername ? { servername } : {}) }, callback);
          },
          (err: unknown) => callback(err as Error, null),
        );
      },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      keepAliveTimeout: 4_000,
      maxHeaderSize: options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
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
    if (exchange.request.body !== undefined)
      exchange.request = { ...exchange.request, body: this.evidence.requestBody(exchange.request.body) };
    if (exchange.response) {
      const body = Buffer.from(exchange.response.body, 'utf8');
      exchange.response = {
        ...exchange.response,
        headers: this.evidence.headers(exchange.response.headers),
        ...this.evidence.body(
          exchange.id,
          body,
          exchange.response.bytes,
          this.isTarget(exchange.request.url),
        ),
      };
    }
    this.exchanges.push(exchange);
    return exchange;
  }

  private isTarget(url: string): boolean {
    return URL.canParse(url) && new URL(url).origin === this.targetOrigin;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** Sends the request; a 429 is waited out and sent again within the request's bound (retry.ts). */
  request(target: string | URL, options: RequestOptions = {}): Promise<HttpResponse> {
    return retryOnRateLimit(
      (timeoutMs, attempt) =>
        this.send(target, {
          ...options,
          timeoutMs,
          ...(attempt > 0 ? { label: `${options.label ?? 'request'} (again after 429, #${attempt})` } : {}),
        }),
      { budgetMs: options.timeoutMs ?? this.timeoutMs },
    );
  }

  private async send(target: string | URL, options: RequestOptions): Promise<HttpResponse> {
    const id = `x${++this.seq}`;
    const method = (
      options.method ?? (options.json !== undefined || options.form ? 'POST' : 'GET')
    ).toUpperCase();
    const { headers, body } = buildRequest(options);
    if (this.extraHeaders.headers.length > 0 && this.extraHeaders.origins.has(originOf(target) ?? '')) {
      for (const [name, value] of this.extraHeaders.headers)
        if (!headers.some(([n]) => n.toLowerCase() === name.toLowerCase())) headers.push([name, value]);
    }
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
        ...(body !== undefined ? { body: this.evidence.requestBody(asText(body)) } : {}),
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
      const refused = egressRefusalIn(err);
      if (refused) {
        exchange.refused = {
          host: refused.host,
          addressClass: refused.addressClass,
          ...(refused.address ? { address: refused.address } : {}),
        };
        return fail('forbidden-address', refused.message);
      }
      if (errorCode(err) === 'UND_ERR_HEADERS_OVERFLOW') {
        return fail('too-large', `${url.origin} sent a response header block over the runner's cap`);
      }
      return fail(
        signal.aborted ? 'timeout' : 'network',
        describeNetworkError(err, url, timeoutMs, signal.aborted),
      );
    }

    const responseHeaders = flattenHeaders(response.headers);
    const recorded: RecordedResponse = {
      status: response.statusCode,
      headers: this.evidence.headers(responseHeaders),
      body: '',
      bytes: 0,
      truncated: false,
    };
    exchange.response = recorded;
    const read = await readBody(response.body, headerValue(responseHeaders, 'content-encoding'), maxBytes);
    const received = Buffer.concat(read.chunks);
    Object.assign(
      recorded,
      this.evidence.body(id, received, read.bytes, this.isTarget(url.href)),
      read.decoded ? { decoded: read.decoded } : {},
    );
    if (read.failure) {
      recorded.truncated = read.failure.kind === 'too-large';
      const kind = signal.aborted ? 'timeout' : read.failure.kind;
      return fail(
        kind,
        kind === 'timeout' ? `response body not complete within ${timeoutMs} ms` : read.failure.message,
      );
    }
    const text = received.toString('utf8');
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

function originOf(target: string | URL): string | undefined {
  try {
    return new URL(target).origin;
  } catch {
    return undefined;
  }
}

/**
 * Reads a response body, decoding its Content-Encoding (RFC 9110 §8.4), up to `maxBytes` of
 * decoded content. A compressed body expanding beyond MAX_COMPRESSION_RATIO is refused as a
 * bomb. Never throws: a failure comes back with what was read before it.
 */
async function readBody(
  raw: Readable,
  contentEncoding: string | undefined,
  maxBytes: number,
): Promise<{
  chunks: Buffer[];
  bytes: number;
  decoded?: string;
  failure?: { kind: TransportErrorKind; message: string };
}> {
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  const decoders = codings.reverse().map(decoderFor);
  const chunks: Buffer[] = [];
  let bytes = 0;
  // Destroying an unread undici body emits an AbortError: without a listener it would be an
  // uncaught exception. Failures are reported through the loop below instead.
  raw.on('error', () => undefined);
  if (decoders.length > MAX_ENCODINGS || decoders.includes(undefined)) {
    raw.destroy();
    return {
      chunks,
      bytes,
      failure: {
        kind: 'network',
        message: `the response is encoded "${contentEncoding}", which the runner does not decode (it asked for no encoding)`,
      },
    };
  }
  const stages = decoders as (NodeJS.ReadWriteStream & { bytesWritten: number })[];
  // Compressed bytes the first decoder has consumed so far (zlib's bytesWritten), for the ratio.
  const compressedSoFar = () => stages[0]?.bytesWritten ?? 0;
  const source: Readable =
    stages.length === 0
      ? raw
      : (pipeline(
          [raw, ...stages] as unknown as [Readable, NodeJS.ReadWriteStream],
          () => undefined,
        ) as unknown as Readable);
  const decoded = codings.length > 0 ? codings.join(', ') : undefined;
  const result = (failure?: { kind: TransportErrorKind; message: string }) => {
    raw.destroy();
    for (const stage of stages) {
      (stage as unknown as Readable).on('error', () => undefined);
      (stage as unknown as Readable).destroy();
    }
    return { chunks, bytes, ...(decoded ? { decoded } : {}), ...(failure ? { failure } : {}) };
  };
  try {
    for await (const chunk of source) {
      const buf = chunk as Buffer;
      const room = maxBytes - bytes;
      chunks.push(buf.length > room ? buf.subarray(0, room) : buf);
      bytes += Math.min(buf.length, room);
      if (buf.length > room) {
        return result({
          kind: 'too-large',
          message: `response body exceeds the ${maxBytes}-byte cap${decoded ? ` after decoding ${decoded}` : ''}`,
        });
      }
      const compressed = compressedSoFar();
      if (decoded && bytes > MIN_BOMB_BYTES && bytes > MAX_COMPRESSION_RATIO * Math.max(1, compressed)) {
        return result({
          kind: 'too-large',
          message: `the ${decoded} body expands more than ${MAX_COMPRESSION_RATIO}:1 (${bytes} bytes from ${compressed}): a compression bomb, not read further`,
        });
      }
    }
  } catch (err) {
    return result({
      kind: 'network',
      message: `response body broken${decoded ? ` (decoding ${decoded})` : ''}: ${(err as Error).message}`,
    });
  }
  return result();
}

function decoderFor(coding: string): NodeJS.ReadWriteStream | undefined {
  if (coding === 'gzip' || coding === 'x-gzip') return createGunzip();
  if (coding === 'deflate') return createInflate();
  if (coding === 'br') return createBrotliDecompress();
  return undefined;
}

/** How much evidence a run keeps (per exchange and in total). */
export interface EvidenceLimits {
  /** A body from the target's origin is kept up to this many bytes. */
  targetBodyBytes: number;
  /** A body from any other host (an AS, a host the metadata names) is kept up to this. */
  otherBodyBytes: number;
  /** A body that is not text (NUL or many control bytes) is kept up to this. */
  binaryBodyBytes: number;
  /** Once `budgetBytes` of bodies are kept, each further body keeps only this much. */
  afterBudgetBodyBytes: number;
  /** Total bytes of bodies kept for the run. */
  budgetBytes: number;
  /** A header value is kept up to this many characters. */
  headerValueChars: number;
  /** Bodies at least this long are stored once and referenced by later identical ones. */
  dedupeFromBytes: number;
}

export const DEFAULT_EVIDENCE_LIMITS: EvidenceLimits = {
  targetBodyBytes: 64 * 1024,
  otherBodyBytes: 16 * 1024,
  binaryBodyBytes: 1024,
  afterBudgetBodyBytes: 1024,
  budgetBytes: 4 * 1024 * 1024,
  headerValueChars: 4 * 1024,
  dedupeFromBytes: 1024,
};

/**
 * Decides what of each body and header is kept as evidence. Whatever a target sends, a run keeps
 * at most about `budgetBytes` of bodies plus `afterBudgetBodyBytes` and the headers per exchange.
 */
class EvidenceStore {
  private spent = 0;
  private readonly seen = new Map<string, string>();

  constructor(private readonly limits: EvidenceLimits) {}

  /** The evidence fields of a response body (body, bytes, and when cut: sha256, bodyKept or sameBodyAs). */
  body(
    exchangeId: string,
    received: Buffer,
    bytes: number,
    fromTarget: boolean,
  ): Pick<RecordedResponse, 'body' | 'bytes' | 'sha256' | 'bodyKept' | 'sameBodyAs'> {
    const { limits } = this;
    if (received.length === 0) return { body: '', bytes };
    const long = received.length >= limits.dedupeFromBytes;
    const sha256 = long ? createHash('sha256').update(received).digest('hex') : undefined;
    if (sha256) {
      const first = this.seen.get(sha256);
      if (first) return { body: '', bytes, sha256, sameBodyAs: first };
      this.seen.set(sha256, exchangeId);
    }
    const binary = looksBinary(received);
    const cap = binary
      ? limits.binaryBodyBytes
      : this.spent >= limits.budgetBytes
        ? limits.afterBudgetBodyBytes
        : fromTarget
          ? limits.targetBodyBytes
          : limits.otherBodyBytes;
    const kept = received.length > cap ? received.subarray(0, cap) : received;
    this.spent += kept.length;
    // toString copies: the evidence never holds a slice of the (possibly 1 MiB) body a check read.
    const body = kept.toString('utf8');
    if (kept.length === received.length) return { body, bytes };
    const why = binary
      ? 'the body is not text'
      : cap === limits.afterBudgetBodyBytes
        ? "the run's evidence budget is spent"
        : `bodies from ${fromTarget ? 'the target' : 'hosts other than the target'} are kept up to ${cap} bytes`;
    return {
      body,
      bytes,
      sha256: sha256 ?? createHash('sha256').update(received).digest('hex'),
      bodyKept: `first ${kept.length} of ${received.length} bytes: ${why}`,
    };
  }

  /** A request body the runner sent: its own, but it may echo what a target gave it. */
  requestBody(body: string): string {
    return clipText(body, this.limits.targetBodyBytes);
  }

  /** Header lines with each value cut to `headerValueChars` (with its length and hash). */
  headers(lines: [string, string][]): [string, string][] {
    return lines.map(([n, v]) => [n, clipText(v, this.limits.headerValueChars)]);
  }
}

/** A NUL byte, or more than 10% control bytes, in the first 512 bytes: not text. */
function looksBinary(body: Buffer): boolean {
  const sample = body.subarray(0, 512);
  let control = 0;
  for (const b of sample) {
    if (b === 0) return true;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) control++;
  }
  return control * 10 > sample.length;
}

function egressRefusalIn(err: unknown): EgressRefused | undefined {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof EgressRefused) return e;
  }
  return undefined;
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } } | undefined;
  return e?.code ?? e?.cause?.code;
}

function headerValue(lines: readonly [string, string][], name: string): string | undefined {
  const values = lines.filter(([n]) => n === name).map(([, v]) => v);
  return values.length > 0 ? values.join(', ') : undefined;
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
    ...(client.egress ? { egress: client.egress } : {}),
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
