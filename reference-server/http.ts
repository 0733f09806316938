// Small HTTP helpers shared by both halves of the reference server.
//
// The reference server is written on plain `node:http` so that a reader sees every header and
// status it sends. These helpers keep bad input from ever becoming a 500: bodies are bounded,
// media types checked, and form parameters parsed with duplicate detection (OAuth 2.1 §3.1,
// §3.2: "Request and response parameters defined by this specification MUST NOT be included
// more than once"; "Parameters sent without a value MUST be treated as if they were omitted").

import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bodies above this are refused with 413 before they are parsed. */
export const MAX_BODY_BYTES = 64 * 1024;

/** An error that already knows the HTTP answer it should become. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${status} ${error}: ${description}`);
    this.name = 'HttpError';
  }
}

/** A request handler: resolves `true` when it answered the request, `false` to let the next one try. */
export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

/** Reads the whole body, refusing more than `limit` bytes (413) without buffering the excess. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume(); // drain so the socket can be reused
    throw new HttpError(413, 'invalid_request', `request body exceeds ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      req.resume();
      throw new HttpError(413, 'invalid_request', `request body exceeds ${limit} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/**
 * Did this error come from the client going away (a reset, or a close before the whole body was
 * sent) rather than from a bug of ours? Then there is nobody to answer and nothing to log.
 */
export function clientWentAway(req: IncomingMessage, err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const socketGone = req.destroyed || req.socket.destroyed;
  return socketGone && (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE');
}

/** The media type of the request without parameters, lower-cased ('' when absent). */
export function mediaType(req: IncomingMessage): string {
  const raw = req.headers['content-type'] ?? '';
  return raw.split(';')[0]!.trim().toLowerCase();
}

/**
 * Form parameters (application/x-www-form-urlencoded) with duplicate detection.
 * Empty values are dropped, as OAuth 2.1 §3.1 asks ("treated as if they were omitted").
 */
export interface FormParams {
  get(name: string): string | undefined;
  has(name: string): boolean;
  /** Names that appeared more than once with a value. */
  readonly duplicates: readonly string[];
  readonly names: readonly string[];
}

export function parseParams(search: URLSearchParams): FormParams {
  const values = new Map<string, string>();
  const duplicates = new Set<string>();
  for (const [name, value] of search) {
    if (value === '') continue;
    if (values.has(name)) duplicates.add(name);
    else values.set(name, value);
  }
  return {
    get: (name) => values.get(name),
    has: (name) => values.has(name),
    duplicates: [...duplicates],
    names: [...values.keys()],
  };
}

/** Reads an `application/x-www-form-urlencoded` body; any other media type is `invalid_request`. */
export async function readForm(req: IncomingMessage): Promise<FormParams> {
  if (mediaType(req) !== 'application/x-www-form-urlencoded') {
    req.resume();
    throw new HttpError(400, 'invalid_request', 'the request body must be application/x-www-form-urlencoded');
  }
  const body = await readBody(req);
  return parseParams(new URLSearchParams(body.toString('utf8')));
}

/** Reads an `application/json` body that must be a JSON object. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (mediaType(req) !== 'application/json') {
    req.resume();
    throw new HttpError(400, 'invalid_request', 'the request body must be application/json');
  }
  const body = await readBody(req);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_request', 'the request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HttpError(400, 'invalid_request', 'the request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/** An OAuth error object (RFC 6749 §5.2 shape), never cached. */
export function sendOAuthError(
  res: ServerResponse,
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): void {
  sendJson(
    res,
    status,
    { error, error_description: description },
    { 'Cache-Control': 'no-store', ...headers },
  );
}

export function sendHtml(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(html);
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Raw header lines with this name (node joins repeated headers; this keeps them apart). */
export function headerLines(req: IncomingMessage, name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === lower) out.push(req.rawHeaders[i + 1]!);
  }
  return out;
}
