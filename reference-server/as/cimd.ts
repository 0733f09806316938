// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-00; MCP 2025-11-25
// §Client ID Metadata Documents): a `client_id` that is an https URL names a JSON document, hosted
// by the client, that holds its metadata. The AS fetches it, validates it, and caches it.
//
// Fetching a URL chosen by a stranger is a server-side request forgery risk (CIMD §Security, MCP
// 2025-11-25 §AS Abuse Protection): every address the fetch would connect to is checked against a
// block list (loopback, private, link-local, ...) — both IP literals in the URL and what DNS
// resolves names to, at connect time, so DNS rebinding cannot slip past. The fetch follows no
// redirect, is bounded in time and size, and only successes are cached.
//
// Tests cannot serve https, so `allowLoopbackCimd` (a dev flag) lets `http://` client_ids on a
// loopback host be used, and fetched from loopback. An `https://` client_id stays under the full
// guard even then, so the SSRF protection can still be observed (AS-CIMD-07) on a server that
// hosts its test documents on loopback.

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, request } from 'undici';
import type { ServerContext } from '../context.ts';
import type { AuthorizationServerStore, ClientRecord } from '../store.ts';
import { ClientMetadataError, parseClientMetadata } from './client-metadata.ts';

/** CIMD draft-00 §6 suggests documents stay small (about 5 KB). */
export const CIMD_MAX_BYTES = 5 * 1024;
export const CIMD_TIMEOUT_MS = 5_000;
/** Cache lifetime without (or below) a `Cache-Control: max-age`, and the cap on it. */
const CIMD_DEFAULT_TTL_S = 300;
const CIMD_MAX_TTL_S = 3600;

export class CimdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CimdError';
  }
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Addresses a metadata fetch must never reach (RFC 6890 special-purpose ranges that matter here). */
const FORBIDDEN = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network" / unspecified
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services live here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  FORBIDDEN.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::ffff:0:0', 96], // IPv4-mapped (would smuggle any IPv4 address)
  ['64:ff9b::', 96], // NAT64
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  FORBIDDEN.addSubnet(net, prefix, 'ipv6');
}

/**
 * May documents be fetched from loopback (`allowLoopbackCimd`, a dev flag)? Never under the variant
 * cimd-ssrf-guard, which behaves as a deployed server does (CIMD draft-01 §6.5: no special-use
 * addresses), whatever the flag says.
 */
export function loopbackDocumentsAllowed(ctx: ServerContext): boolean {
  return Boolean(ctx.options.allowLoopbackCimd) && !ctx.variant('cimd-ssrf-guard');
}

/** Is this client_id meant as a metadata document URL? */
export function isCimdClientId(ctx: ServerContext, clientId: string): boolean {
  if (clientId.startsWith('https://')) return true;
  return loopbackDocumentsAllowed(ctx) && /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)[:/]/.test(clientId);
}

/**
 * Why this client_id URL is not acceptable (CIMD draft-00 §3: https, a path component, no single-
 * or double-dot path segments, no fragment, no username or password), or undefined.
 */
export function cimdUrlProblem(ctx: ServerContext, clientId: string): string | undefined {
  // Fault: the URL rules are skipped; any parseable URL is fetched.
  if (ctx.fault('as-cimd-url-unchecked')) return URL.canParse(clientId) ? undefined : 'not a URL';
  if (!URL.canParse(clientId)) return 'the client_id is not a valid URL';
  const url = new URL(clientId);
  const loopbackHttp = url.protocol === 'http:' && isCimdClientId(ctx, clientId);
  if (url.protocol !== 'https:' && !loopbackHttp) return 'a client_id URL must use https';
  if (clientId.includes('#')) return 'a client_id URL must not contain a fragment';
  if (url.username || url.password) return 'a client_id URL must not contain a username or password';
  // Inspect the raw path: the URL parser would already have resolved the dot segments away.
  const afterScheme = clientId.slice(url.protocol.length + 2);
  const authorityEnd = afterScheme.search(/[/?#]/);
  if (authorityEnd === -1 || afterScheme[authorityEnd] !== '/')
    return 'a client_id URL must contain a path component';
  const rawPath = afterScheme.slice(authorityEnd).split(/[?#]/)[0]!;
  if (rawPath === '/') return 'a client_id URL must contain a path component';
  const segments = rawPath.split('/');
  if (segments.some((s) => /^(%2e|\.){1,2}$/i.test(s))) {
    return 'a client_id URL must not contain dot path segments';
  }
  return undefined;
}

export interface CimdResolver {
  resolve(clientId: string): Promise<ClientRecord>;
  close(): Promise<void>;
}

export function createCimdResolver(ctx: ServerContext, store: AuthorizationServerStore): CimdResolver {
  const forbidden = (address: string, allowLoopback: boolean) =>
    // Fault: no address is forbidden (SSRF guard off).
    !ctx.fault('as-cimd-ssrf-unguarded') &&
    FORBIDDEN.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4') &&
    !(allowLoopback && LOOPBACK.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4'));

  // Checks resolved addresses at connect time, so the address checked is the address used.
  const guardedLookup =
    (allowLoopback: boolean) =>
    (
      hostname: string,
      options: object,
      callback: (
        err: NodeJS.ErrnoException | null,
        address: string | LookupAddress[],
        family?: number,
      ) => void,
    ) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, '');
        const list = addresses as LookupAddress[];
        const bad = list.find((a) => forbidden(a.address, allowLoopback));
        if (bad)
          return callback(new CimdError(`${hostname} resolves to a forbidden address (${bad.address})`), '');
        const wantsAll = (options as { all?: boolean }).all;
        if (wantsAll) return callback(null, list);
        const first = list[0];
        if (!first) return callback(new CimdError(`${hostname} has no address`), '');
        callback(null, first.address, first.family);
      });
    };
  const strictAgent = new Agent({ connect: { lookup: guardedLookup(false), timeout: CIMD_TIMEOUT_MS } });
  // Only for http://loopback test documents, and only with allowLoopbackCimd.
  const loopbackAgent = loopbackDocumentsAllowed(ctx)
    ? new Agent({ connect: { lookup: guardedLookup(true), timeout: CIMD_TIMEOUT_MS } })
    : strictAgent;

  async function fetchDocument(clientId: string): Promise<{ client: ClientRecord; ttlSeconds: number }> {
    const problem = cimdUrlProblem(ctx, clientId);
    if (problem) throw new CimdError(problem);
    const url = new URL(clientId);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const allowLoopback = loopbackDocumentsAllowed(ctx) && url.protocol === 'http:';
    if (isIP(host) && forbidden(host, allowLoopback)) {
      throw new CimdError(`the client_id URL points at a forbidden address (${host})`);
    }

    // Fault: the body size is not bounded.
    const maxBytes = ctx.fault('as-cimd-no-size-cap') ? Number.POSITIVE_INFINITY : CIMD_MAX_BYTES;
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(url, {
        method: 'GET',
        dispatcher: allowLoopback ? loopbackAgent : strictAgent,
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(CIMD_TIMEOUT_MS),
        headersTimeout: CIMD_TIMEOUT_MS,
        bodyTimeout: CIMD_TIMEOUT_MS,
      });
    } catch (err) {
      throw new CimdError(`could not fetch the client metadata document: ${(err as Error).message}`);
    }
    // CIMD draft-00 §4.3: anything but a 200 aborts; undici's request() follows no redirect.
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new CimdError(`the client metadata document answered HTTP ${response.statusCode}, not 200`);
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body.dump();
      throw new CimdError(`the client metadata document is larger than ${maxBytes} bytes`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          response.body.destroy();
          throw new CimdError(`the client metadata document is larger than ${maxBytes} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      if (err instanceof CimdError) throw err;
      throw new CimdError(`could not read the client metadata document: ${(err as Error).message}`);
    }

    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new CimdError('the client metadata document is not valid JSON');
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new CimdError('the client metadata document is not a JSON object');
    }
    const record = doc as Record<string, unknown>;
    // CIMD draft-00 §4.1: the document's client_id MUST equal the URL it was fetched from, exactly.
    // Fault: a document naming another client_id is accepted.
    if (record.client_id !== clientId && !ctx.fault('as-cimd-client-id-mismatch-accepted')) {
      throw new CimdError('the document client_id does not equal the URL it was fetched from');
    }
    // CIMD draft-00 §4.1: no shared secrets in a public document.
    // Fault: a document declaring a shared-secret method or carrying a secret is accepted.
    if (!ctx.fault('as-cimd-secret-accepted')) {
      const method = record.token_endpoint_auth_method;
      if (typeof method === 'string' && method.startsWith('client_secret_')) {
        throw new CimdError(`a metadata document must not use ${method} (a shared secret)`);
      }
      if (Object.hasOwn(record, 'client_secret') || Object.hasOwn(record, 'client_secret_expires_at')) {
        throw new CimdError('a metadata document must not contain client_secret members');
      }
    }
    let metadata: ReturnType<typeof parseClientMetadata>;
    try {
      metadata = parseClientMetadata(ctx, record, 'cimd');
    } catch (err) {
      if (err instanceof ClientMetadataError)
        throw new CimdError(`invalid metadata document: ${err.description}`);
      throw err;
    }
    const client: ClientRecord = { client_id: clientId, source: 'cimd', metadata };
    return { client, ttlSeconds: cacheTtl(response.headers['cache-control']) };
  }

  return {
    async resolve(clientId) {
      const cached = await store.getCimd(clientId);
      if (cached?.client) return cached.client;
      if (cached?.error) throw new CimdError(cached.error);
      try {
        const { client, ttlSeconds } = await fetchDocument(clientId);
        if (ttlSeconds > 0)
          await store.putCimd(clientId, { client, expiresAt: Date.now() + ttlSeconds * 1000 });
        return client;
      } catch (err) {
        // CIMD draft-00 §4.4: errors are never cached. Fault: they are, for the default lifetime.
        if (err instanceof CimdError && ctx.fault('as-cimd-caches-errors')) {
          await store.putCimd(clientId, {
            error: err.message,
            expiresAt: Date.now() + CIMD_DEFAULT_TTL_S * 1000,
          });
        }
        throw err;
      }
    },
    close: async () => {
      await strictAgent.close();
      if (loopbackAgent !== strictAgent) await loopbackAgent.close();
    },
  };
}

/** HTTP caching (CIMD draft-00 §4.4 SHOULD respect it): max-age capped; no-store/no-cache → 0. */
function cacheTtl(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  if (/\b(no-store|no-cache)\b/i.test(value)) return 0;
  const maxAge = /\bmax-age\s*=\s*(\d+)/i.exec(value);
  if (!maxAge) return CIMD_DEFAULT_TTL_S;
  return Math.min(Number(maxAge[1]), CIMD_MAX_TTL_S);
}
