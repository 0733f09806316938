// The ONE place that decides what leaves the process (DESIGN.md §Evidence, redaction and safety).
//
// Everything that reaches a report, a log line or the console passes through a Redactor:
// exchanges (URLs incl. query and Location, headers, bodies), result messages, notes and data.
// Two mechanisms, both always on:
// 1. Registered secrets: every token, code, client secret, PKCE verifier or cookie the run
//    handles is registered when it is obtained, and every occurrence (raw, percent-encoded or
//    form-encoded) is replaced wherever it appears.
// 2. Patterns, for secrets the run never saw being issued (a token the target echoes back, a
//    value in a hostile body): Authorization / Proxy-Authorization / Cookie / Set-Cookie header
//    values, headers, JSON and form/query fields whose NAME means a secret (isSecretName: by
//    meaning, not spelling, so `Token`, `CSRF_token`, `SecretAccessKey` and `x-api-key` are
//    caught and `token_endpoint` is not), the values of hidden form inputs in HTML, and anything
//    shaped like a JWT.
// A redacted value reads `[redacted <prefix>… len=N sha256=<first 12 hex>]`: enough to tell two
// tokens apart and to match a value across exchanges, never enough to use it.

import { createHash } from 'node:crypto';
import type { Exchange } from './http.ts';

export type SecretKind =
  | 'access_token'
  | 'refresh_token'
  | 'id_token'
  | 'code'
  | 'client_secret'
  | 'code_verifier'
  | 'cookie'
  | 'password'
  | 'token';

/**
 * Field names whose values are always secret, in JSON bodies, form bodies and URL queries
 * (examples of isSecretName, which decides; compared case-insensitively).
 */
export const SECRET_FIELDS = [
  'access_token',
  'refresh_token',
  'id_token',
  'code',
  'client_secret',
  'code_verifier',
  'password',
  'token',
  'assertion',
  'csrf',
  'requestState',
  'api_key',
  'SecretAccessKey',
  'Token',
  'CSRF_token',
] as const;

/** Names secret exactly (after lower-casing and dropping `_`, `-`, `.`): words too common to match inside names. */
const SECRET_EXACT = new Set(['code', 'assertion', 'secret', 'key', 'pwd', 'pin', 'otp', 'nonce']);
/** Words that make a name secret wherever they appear in it. */
const SECRET_WORDS =
  /secret|passw|passphrase|token|credential|privatekey|apikey|accesskey|sessionkey|signingkey|csrf|xsrf|requeststate|verifier|cookie|assertion/;
/**
 * Endings that make a name evidence about a secret rather than the secret itself:
 * `token_endpoint`, `token_type`, `token_endpoint_auth_methods_supported`, `csrf_header_name`.
 */
const EVIDENCE_ENDINGS =
  /(endpoint|uri|url|urls|supported|method|methods|type|types|hint|alg|algs|enc|name|issuer|format|lifetime|ttl|expiresin|expiresat|length|count|required|policy)$/;

/** Does this field, parameter or header name hold a secret? Case, `_`, `-` and `.` do not matter. */
export function isSecretName(name: string): boolean {
  const norm = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (norm === '') return false;
  if (SECRET_EXACT.has(norm)) return true;
  return SECRET_WORDS.test(norm) && !EVIDENCE_ENDINGS.test(norm);
}

/** Headers whose values are always redacted, whatever they hold. */
export const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'] as const;

/** Values shorter than this are not registered: replacing "a" everywhere would destroy the evidence. */
const MIN_SECRET_LENGTH = 6;

/** `"name": "value"`, any name: isSecretName decides in the replacer. */
const JSON_FIELD = /("((?:[^"\\]|\\.){1,100})"\s*:\s*")((?:[^"\\]|\\.)*)(")/g;
/** `name=value` in a query, fragment or form body, any name: isSecretName decides. */
const FORM_FIELD = /(^|[?&#;\s])([A-Za-z0-9_.\-[\]]{1,100})=([^&#\s"'<>]+)/g;
/** An HTML `<input>` or `<meta>` tag: hidden inputs and secret-named ones lose their value. */
const HTML_TAG = /<(input|meta)\b[^>]*>/gi;
/** An attribute `name="v"`, `name='v'` or `name=v` inside a tag. */
const ATTRIBUTE = /([a-zA-Z-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+)/g;
/** header.payload.signature, each base64url; the signature may be empty (alg none). */
const JWT = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const REDACTED_MARK = '[redacted ';

/** `[redacted abcd… len=N sha256=0123456789ab]`; passwords and cookies show no prefix at all. */
export function redactedValue(secret: string, kind: SecretKind = 'token'): string {
  const fingerprint = createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 12);
  const prefixLength =
    kind === 'password' || kind === 'cookie' ? 0 : Math.min(4, Math.floor(secret.length / 4));
  const prefix = secret.slice(0, prefixLength);
  return `${REDACTED_MARK}${prefix}… len=${secret.length} sha256=${fingerprint}]`;
}

/**
 * `text` cut to `max` characters, marked with its full length and SHA-256, so a reader can tell
 * two long values apart without the report holding either. Apply after redaction (a cut must not
 * leave half a secret that no pattern recognises any more).
 */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  const sha = createHash('sha256').update(text, 'utf8').digest('hex');
  // Rebuilt from a buffer so the kept part never pins the whole string in memory (V8 slices do).
  const head = Buffer.from(text.slice(0, max), 'utf8').toString('utf8');
  return `${head}… [cut: ${text.length} characters, sha256=${sha}]`;
}

export class Redactor {
  /** secret → its replacement; longest first when applied, so a secret inside another is not half-replaced. */
  private readonly secrets = new Map<string, string>();
  private ordered: [string, string][] | undefined;

  /** Registers a secret the run handles; later text containing it (in any encoding) is scrubbed. */
  register(secret: string | undefined | null, kind: SecretKind = 'token'): void {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) return;
    if (this.secrets.has(secret)) return;
    const replacement = redactedValue(secret, kind);
    for (const variant of encodings(secret)) this.secrets.set(variant, replacement);
    this.ordered = undefined;
  }

  /** Scrubs free text: registered secrets first, then the patterns. */
  text(input: string): string {
    let out = input;
    for (const [secret, replacement] of this.orderedSecrets()) {
      if (out.includes(secret)) out = out.split(secret).join(replacement);
    }
    out = out.replace(
      JSON_FIELD,
      (match: string, open: string, name: string, value: string, close: string) =>
        value.startsWith(REDACTED_MARK) || value === '' || !isSecretName(name)
          ? match
          : `${open}${redactedValue(value, kindOfField(name))}${close}`,
    );
    out = out.replace(FORM_FIELD, (match: string, lead: string, name: string, value: string) =>
      value.startsWith(REDACTED_MARK.trim()) || !isSecretName(name)
        ? match
        : `${lead}${name}=${redactedValue(safeDecode(value), kindOfField(name))}`,
    );
    if (out.includes('<')) out = out.replace(HTML_TAG, (tag) => redactHtmlTag(tag));
    out = out.replace(JWT, (jwt) => redactedValue(jwt, 'token'));
    return out;
  }

  /** A header value: secret headers are always redacted (keeping the scheme or cookie names), others scrubbed. */
  header(name: string, value: string): string {
    const lower = name.toLowerCase();
    if (lower === 'authorization' || lower === 'proxy-authorization') return redactCredentials(value);
    if (lower === 'cookie') return redactCookiePairs(value, ';');
    if (lower === 'set-cookie') return redactSetCookie(value);
    // x-csrf-token, x-api-key, x-amz-security-token...: the whole value.
    if (isSecretName(lower) && value !== '' && !value.startsWith(REDACTED_MARK))
      return redactedValue(value, kindOfField(lower));
    return this.text(value);
  }

  /** A deep copy of an exchange, safe to write into a report. */
  exchange(exchange: Exchange): Exchange {
    const request = {
      method: exchange.request.method,
      url: this.text(exchange.request.url),
      headers: exchange.request.headers.map(([n, v]) => [n, this.header(n, v)] as [string, string]),
      ...(exchange.request.body !== undefined ? { body: this.text(exchange.request.body) } : {}),
    };
    const response = exchange.response && {
      ...exchange.response,
      headers: exchange.response.headers.map(([n, v]) => [n, this.header(n, v)] as [string, string]),
      body: this.text(exchange.response.body),
    };
    return {
      id: exchange.id,
      ...(exchange.label !== undefined ? { label: this.text(exchange.label) } : {}),
      startedAt: exchange.startedAt,
      durationMs: exchange.durationMs,
      request,
      ...(response ? { response } : {}),
      ...(exchange.error !== undefined ? { error: this.text(exchange.error) } : {}),
      ...(exchange.refused ? { refused: { ...exchange.refused } } : {}),
    };
  }

  /** Any JSON-like value (result data): strings scrubbed, secret-named fields redacted whatever their type. */
  value(input: unknown, depth = 0): unknown {
    if (depth > 32) return '[too deep]';
    if (typeof input === 'string') return this.text(input);
    if (Array.isArray(input)) return input.map((v) => this.value(v, depth + 1));
    if (input !== null && typeof input === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(input as Record<string, unknown>)) {
        const secretField = isSecretName(key);
        out[key] =
          secretField && typeof v === 'string'
            ? redactedValue(v, kindOfField(key))
            : this.value(v, depth + 1);
      }
      return out;
    }
    return input;
  }

  private orderedSecrets(): [string, string][] {
    this.ordered ??= [...this.secrets].sort((a, b) => b[0].length - a[0].length);
    return this.ordered;
  }
}

/** The raw value and the forms it takes inside URLs and form bodies. */
function encodings(secret: string): string[] {
  const percent = encodeURIComponent(secret);
  const form = new URLSearchParams({ x: secret }).toString().slice(2);
  return [...new Set([secret, percent, form])];
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

function kindOfField(field: string): SecretKind {
  return /passw|pwd|pin|otp/i.test(field) ? 'password' : 'token';
}

/**
 * `<input type="hidden" name="csrf" value="…">` → the value redacted: a hidden field is state the
 * server handed the browser (a CSRF token, a consent request id), never evidence to keep in clear.
 * Also any input or `<meta name=… content=…>` whose name means a secret.
 */
function redactHtmlTag(tag: string): string {
  const attrs = new Map<string, string>();
  for (const m of tag.matchAll(ATTRIBUTE)) {
    const name = m[1]!.toLowerCase();
    if (!attrs.has(name)) attrs.set(name, unquote(m[2]!));
  }
  const isMeta = /^<meta/i.test(tag);
  const valueAttr = isMeta ? 'content' : 'value';
  const secret = isMeta
    ? isSecretName(attrs.get('name') ?? attrs.get('property') ?? '')
    : (attrs.get('type') ?? '').toLowerCase() === 'hidden' || isSecretName(attrs.get('name') ?? '');
  const value = attrs.get(valueAttr);
  if (!secret || value === undefined || value === '' || value.startsWith(REDACTED_MARK)) return tag;
  return tag.replace(ATTRIBUTE, (whole: string, name: string, quoted: string) => {
    if (name.toLowerCase() !== valueAttr) return whole;
    const q = quoted.startsWith('"') ? '"' : quoted.startsWith("'") ? "'" : '"';
    return `${name}=${q}${redactedValue(unquote(quoted), kindOfField(attrs.get('name') ?? ''))}${q}`;
  });
}

function unquote(value: string): string {
  return (value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))
    ? value.slice(1, -1)
    : value;
}

/** `Bearer abc` → `Bearer [redacted …]`; the scheme is evidence (casing checks), the credentials are not. */
function redactCredentials(value: string): string {
  const match = /^(\s*)(\S+)(\s+)([\s\S]*)$/.exec(value);
  if (!match) return value.length === 0 ? value : redactedValue(value, 'token');
  const [, lead, scheme, gap, credentials] = match as unknown as [string, string, string, string, string];
  if (credentials.length === 0) return value;
  // Basic carries client_id:client_secret in base64: no prefix at all.
  const kind: SecretKind = scheme.toLowerCase() === 'basic' ? 'password' : 'token';
  return `${lead}${scheme}${gap}${redactedValue(credentials, kind)}`;
}

/** `a=1; b=2` → names kept, values redacted. */
function redactCookiePairs(value: string, separator: string): string {
  return value
    .split(separator)
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      return `${pair.slice(0, eq)}=${redactedValue(pair.slice(eq + 1).trim(), 'cookie')}`;
    })
    .join(separator);
}

/** `sid=abc; Path=/; HttpOnly` → the cookie's value redacted, its attributes kept. */
function redactSetCookie(value: string): string {
  const semi = value.indexOf(';');
  const first = semi < 0 ? value : value.slice(0, semi);
  const rest = semi < 0 ? '' : value.slice(semi);
  return redactCookiePairs(first, ';') + rest;
}
