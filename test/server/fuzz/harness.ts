// The fuzzer's side of the wire: the reference server in a child process (target-process.ts), the
// fixtures a case needs (a fresh code, a valid token, ...), one raw-socket exchange per case, and
// the verdict on what came back. Shared by test/server/fuzz.test.ts (a few thousand cases) and
// bench/fuzz-reference-server.ts (100,000).
//
// The verdict on a case:
//   - a 5xx is a failure, except 503 with Retry-After: a store that is full, which is the
//     designed answer (reference-server/limits.ts) and counted apart;
//   - a complete request must be answered within the bound; one that is not complete (damaged,
//     lying about its length, raw bytes) is followed by our half-close, and then it must be
//     answered or closed within the bound (the server cannot answer what it never received);
//   - the server process must still be alive.

import { type ChildProcess, fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { importJWK, type JWK, SignJWT } from 'jose';
import type { ReferenceServerOptions } from '../../../reference-server/server.ts';
import { type FixtureName, type FuzzCase, fixturesOf, isComplete, render } from './cases.ts';

// ---------------------------------------------------------------------------------------------
// The target process

export interface TargetServer {
  url: string;
  issuer: string;
  origin: string;
  port: number;
  signingKey: JWK;
}

export interface Measurement {
  heapUsed: number;
  rss: number;
  sizes: Record<string, number>[];
}

export interface TargetProcess {
  servers: TargetServer[];
  pid: number;
  /** How the process ended, once it has (a crash, unless we closed it). */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** What the server wrote on stderr (the last 64 KiB). */
  stderr(): string;
  /** Heap and RSS after full collections, and the store sizes of each server. */
  measure(): Promise<Measurement>;
  close(): Promise<void>;
}

/** The options the fuzzer runs against: an auto-approving server, and one with the consent page. */
export const FUZZ_TARGETS: ReferenceServerOptions[] = [
  { autoApprove: true },
  // Public methods let unauthenticated bodies reach the SDK too.
  { autoApprove: false, publicMethods: ['initialize', 'notifications/initialized', 'ping', 'tools/list'] },
];

const PROCESS_ENTRY = fileURLToPath(new URL('./target-process.ts', import.meta.url));

export async function startTarget(options: ReferenceServerOptions[]): Promise<TargetProcess> {
  const child: ChildProcess = fork(PROCESS_ENTRY, [JSON.stringify(options)], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-64 * 1024);
  });
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.on('exit', (code, signal) => {
    exit = { code, signal };
  });

  const ready = await new Promise<{ servers: Omit<TargetServer, 'origin' | 'port'>[] }>((resolve, reject) => {
    const onMessage = (message: { type: string; servers: Omit<TargetServer, 'origin' | 'port'>[] }) => {
      if (message.type === 'ready') resolve(message);
    };
    child.on('message', onMessage);
    child.once('exit', (code) =>
      reject(new Error(`the target process exited (${code}) before it was ready: ${stderr}`)),
    );
  });

  let nextId = 0;
  const pending = new Map<number, (m: Measurement) => void>();
  child.on('message', (message: { type: string; id: number } & Measurement) => {
    if (message.type === 'measured') pending.get(message.id)?.(message);
  });

  return {
    servers: ready.servers.map((s) => {
      const origin = new URL(s.url).origin;
      return { ...s, origin, port: Number(new URL(origin).port) };
    }),
    pid: child.pid!,
    exit: () => exit,
    stderr: () => stderr,
    measure: () =>
      new Promise((resolve, reject) => {
        if (exit) return reject(new Error('the target process is gone'));
        const id = nextId++;
        pending.set(id, (m) => {
          pending.delete(id);
          resolve(m);
        });
        child.send({ type: 'measure', id });
      }),
    close: () =>
      new Promise((resolve) => {
        if (exit) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send({ type: 'close' });
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Fixtures

const ALL_SCOPES = 'mcp:tools mcp:write mcp:admin';
const REDIRECT_URI = 'http://127.0.0.1/cb';

/** Values cases name: cached ones (clients, tokens, a session) and fresh ones (codes, consent ids). */
export class Fixtures {
  private cached = new Map<FixtureName, string>();
  /** Fixtures that could not be obtained (a full store, say); the case then gets a placeholder. */
  misses = 0;
  /** HTTP requests made to obtain fixtures. */
  requests = 0;

  constructor(
    private readonly server: TargetServer,
    private readonly consentPage: boolean,
  ) {}

  async setup(): Promise<void> {
    const publicClient = await this.register({ token_endpoint_auth_method: 'none' });
    const confidential = await this.register({ token_endpoint_auth_method: 'client_secret_basic' });
    const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
    const basic = Buffer.from(
      `${enc(String(confidential.client_id))}:${enc(String(confidential.client_secret))}`,
    );
    const key = await importJWK(this.server.signingKey, 'ES256');
    const mint = (scope: string) =>
      new SignJWT({ client_id: String(publicClient.client_id), scope })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: String(this.server.signingKey.kid) })
        .setIssuer(this.server.issuer)
        .setAudience(this.server.url)
        .setSubject('alice')
        .setIssuedAt()
        .setExpirationTime('4h')
        .setJti(crypto.randomUUID())
        .sign(key);
    this.cached.set('publicClient', String(publicClient.client_id));
    this.cached.set('confidentialClient', String(confidential.client_id));
    this.cached.set('basicAuth', `Basic ${basic.toString('base64')}`);
    this.cached.set('token', `Bearer ${await mint(ALL_SCOPES)}`);
    this.cached.set('narrowToken', `Bearer ${await mint('mcp:tools')}`);
    this.cached.set('resource', this.server.url);
    this.cached.set('redirectUri', REDIRECT_URI);
    this.cached.set('origin', this.server.origin);
    this.cached.set('challenge', pkcePair().challenge);
    this.cached.set('sessionId', await this.openSession());
  }

  /** Every fixture the case names; fresh ones are obtained now. */
  async resolve(c: FuzzCase): Promise<Map<FixtureName, string>> {
    const names = fixturesOf(c);
    const out = new Map<FixtureName, string>();
    for (const name of names) {
      const value = this.cached.get(name);
      if (value !== undefined) out.set(name, value);
    }
    if (names.has('code') || names.has('verifier')) {
      const fresh = await this.freshCode();
      out.set('code', fresh?.code ?? 'no-code');
      out.set('verifier', fresh?.verifier ?? 'no-verifier');
    }
    if (names.has('refreshToken'))
      out.set('refreshToken', (await this.freshRefreshToken()) ?? 'no-refresh-token');
    if (names.has('requestId') || names.has('csrf')) {
      const page = await this.consentIds();
      out.set('requestId', page?.requestId ?? 'no-request');
      out.set('csrf', page?.csrf ?? 'no-csrf');
    }
    return out;
  }

  private async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    this.requests++;
    return fetch(`${this.server.origin}${path}`, {
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
      ...init,
    });
  }

  private async register(metadata: Record<string, unknown>): Promise<Record<string, unknown>> {
    const res = await this.fetch('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        ...metadata,
      }),
    });
    if (res.status !== 201) throw new Error(`fixture registration failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  }

  private async openSession(): Promise<string> {
    const res = await this.fetch('/mcp', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: this.cached.get('token')!,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'fuzz', version: '1' },
        },
      }),
    });
    await res.arrayBuffer();
    return res.headers.get('mcp-session-id') ?? 'no-session';
  }

  /** An authorization request whose answer is not followed: the Location, or the page. */
  private async authorize(prompt: boolean): Promise<{ location?: URL; page?: string; verifier: string }> {
    const { verifier, challenge } = pkcePair();
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: this.cached.get('publicClient')!,
      redirect_uri: REDIRECT_URI,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: this.server.url,
      scope: 'mcp:tools',
      state: 'fuzz',
      ...(prompt ? { prompt: 'consent' } : {}),
    });
    const res = await this.fetch(`/authorize?${query}`);
    const location = res.headers.get('location');
    const page = await res.text();
    return { ...(location ? { location: new URL(location) } : { page }), verifier };
  }

  private async consentIds(): Promise<{ requestId: string; csrf: string } | undefined> {
    const { page } = await this.authorize(!this.consentPage);
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(page ?? '')?.[1];
    const requestId = field('request_id');
    const csrf = field('csrf');
    if (requestId === undefined || csrf === undefined) {
      this.misses++;
      return undefined;
    }
    return { requestId, csrf };
  }

  private async freshCode(): Promise<{ code: string; verifier: string } | undefined> {
    let location: URL | undefined;
    let verifier: string;
    if (this.consentPage) {
      const out = await this.authorize(false);
      verifier = out.verifier;
      const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(out.page ?? '')?.[1];
      const form = new URLSearchParams({
        request_id: field('request_id') ?? '',
        csrf: field('csrf') ?? '',
        username: 'alice',
        password: 'alice',
        action: 'approve',
      });
      const res = await this.fetch('/consent', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      await res.arrayBuffer();
      const raw = res.headers.get('location');
      location = raw ? new URL(raw) : undefined;
    } else {
      const out = await this.authorize(false);
      verifier = out.verifier;
      location = out.location;
    }
    const code = location?.searchParams.get('code');
    if (!code) {
      this.misses++;
      return undefined;
    }
    return { code, verifier };
  }

  private async freshRefreshToken(): Promise<string | undefined> {
    const code = await this.freshCode();
    if (!code) return undefined;
    const res = await this.fetch('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: code.code,
        code_verifier: code.verifier,
        client_id: this.cached.get('publicClient')!,
      }).toString(),
    });
    const body = (await res.json().catch(() => ({}))) as { refresh_token?: string };
    if (!body.refresh_token) this.misses++;
    return body.refresh_token;
  }
}

function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

// ---------------------------------------------------------------------------------------------
// One exchange

export interface Answer {
  status: number;
  retryAfter: boolean;
}

export interface Exchange {
  answers: Answer[];
  /** The server closed the connection (or reset it) before the bound. */
  closed: boolean;
  /** Milliseconds from the first byte sent to the first status line (or to the end). */
  ms: number;
  timedOut: boolean;
}

/**
 * Sends `payload` on a fresh connection and reads the answers: until the server closes, or
 * `expected` responses are complete, or `boundMs` passes. With `halfClose` our side ends
 * right after the payload (the request may be incomplete; the server must not wait for more).
 */
export function exchange(
  port: number,
  payload: Buffer,
  options: { expected: number; heads: boolean[]; halfClose: boolean; boundMs: number },
): Promise<Exchange> {
  const started = performance.now();
  return new Promise((resolve) => {
    const parser = new ResponseParser(options.heads);
    let firstAnswerMs: number | undefined;
    let settled = false;
    const finish = (closed: boolean, timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const ms = firstAnswerMs ?? performance.now() - started;
      resolve({ answers: parser.answers, closed, ms, timedOut });
    };
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(payload);
      if (options.halfClose) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      parser.push(chunk);
      if (firstAnswerMs === undefined && parser.answers.length > 0)
        firstAnswerMs = performance.now() - started;
      if (options.expected > 0 && parser.complete >= options.expected) finish(false, false);
    });
    socket.on('error', () => finish(true, false));
    socket.on('close', () => finish(true, false));
    const timer = setTimeout(() => finish(false, true), options.boundMs);
  });
}

/** Just enough of HTTP/1.1 response framing to count answers and their statuses. */
class ResponseParser {
  answers: Answer[] = [];
  /** Responses whose body was read to its end. */
  complete = 0;
  private buffer = Buffer.alloc(0);
  /** Bytes of body still to skip, 'chunked', or 'close' (body until the connection ends). */
  private body: number | 'chunked' | 'close' | undefined;

  constructor(private readonly heads: boolean[]) {}

  push(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.body === undefined) {
        const end = this.buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = this.buffer.subarray(0, end).toString('latin1');
        this.buffer = this.buffer.subarray(end + 4);
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
        const header = (name: string) => new RegExp(`\\r\\n${name}:[ \\t]*([^\\r]*)`, 'i').exec(head)?.[1];
        const isHead = this.heads[this.answers.length] ?? false;
        this.answers.push({ status, retryAfter: header('retry-after') !== undefined });
        if (isHead || status === 204 || status === 304 || (status >= 100 && status < 200)) this.body = 0;
        else if (/chunked/i.test(header('transfer-encoding') ?? '')) this.body = 'chunked';
        else if (header('content-length') !== undefined) this.body = Number(header('content-length'));
        else this.body = 'close';
      }
      if (this.body === 'close') return;
      if (this.body === 'chunked') {
        const line = this.buffer.indexOf('\r\n');
        if (line < 0) return;
        const size = Number.parseInt(this.buffer.subarray(0, line).toString('latin1'), 16);
        if (!Number.isFinite(size)) return;
        if (size === 0) {
          const end = this.buffer.indexOf('\r\n\r\n');
          if (end < 0) return;
          this.buffer = this.buffer.subarray(end + 4);
          this.done();
          continue;
        }
        if (this.buffer.length < line + 2 + size + 2) return;
        this.buffer = this.buffer.subarray(line + 2 + size + 2);
        continue;
      }
      if (this.buffer.length < this.body) return;
      this.buffer = this.buffer.subarray(this.body);
      this.done();
    }
  }

  private done(): void {
    this.body = undefined;
    this.complete++;
  }
}

// ---------------------------------------------------------------------------------------------
// One case, judged

export interface CaseResult {
  kind: string;
  statuses: number[];
  /** A 5xx other than a designed 503 with Retry-After. */
  serverError: boolean;
  /** 503 with Retry-After: a store at its cap. */
  storeFull: boolean;
  /** No answer, and (for a complete request) no answer at all or (otherwise) no close either, within the bound. */
  hang: boolean;
  /** A complete request whose connection was closed without any answer. */
  dropped: boolean;
  ms: number;
  requests: number;
}

export async function runCase(
  target: TargetProcess,
  fixtures: Fixtures[],
  c: FuzzCase,
  boundMs: number,
): Promise<CaseResult> {
  const index = c.server === 'auto' ? 0 : 1;
  const server = target.servers[index]!;
  const values = await fixtures[index]!.resolve(c);
  const payload = render(c, `127.0.0.1:${server.port}`, (name) => values.get(name) ?? `no-${name}`);
  const complete = isComplete(c);
  const ex = await exchange(server.port, payload, {
    expected: complete ? c.requests.length + (c.tail ? 1 : 0) : 0,
    heads: c.requests.map((r) => r.method === 'HEAD'),
    halfClose: !complete,
    boundMs,
  });
  const statuses = ex.answers.map((a) => a.status);
  const answered = ex.answers.length > 0;
  return {
    kind: c.kind,
    statuses,
    serverError: ex.answers.some((a) => a.status >= 500 && !(a.status === 503 && a.retryAfter)),
    storeFull: ex.answers.some((a) => a.status === 503 && a.retryAfter),
    hang: !answered && (complete || !ex.closed),
    dropped: complete && !answered && ex.closed,
    ms: ex.ms,
    requests: Math.max(1, c.requests.length),
  };
}

/** Runs `cases` over `concurrency` connections at a time, in order of completion. */
export async function runCases(
  target: TargetProcess,
  fixtures: Fixtures[],
  cases: readonly FuzzCase[],
  options: { concurrency: number; boundMs: number },
): Promise<CaseResult[]> {
  const results: CaseResult[] = new Array(cases.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, cases.length) }, async () => {
      while (next < cases.length) {
        const i = next++;
        results[i] = await runCase(target, fixtures, cases[i]!, options.boundMs);
      }
    }),
  );
  return results;
}

/** Starts the fuzz target and its fixtures. */
export async function startFuzzTarget(): Promise<{ target: TargetProcess; fixtures: Fixtures[] }> {
  const target = await startTarget(FUZZ_TARGETS);
  const fixtures = target.servers.map((s, i) => new Fixtures(s, FUZZ_TARGETS[i]!.autoApprove !== true));
  await Promise.all(fixtures.map((f) => f.setup()));
  return { target, fixtures };
}

/** A failing case as a line a reader can replay by hand. */
export function describeCase(c: FuzzCase, r: CaseResult): string {
  const payload = render(c, '127.0.0.1:PORT', (name) => `<${name}>`);
  const shown =
    payload.length > 600
      ? `${payload.subarray(0, 600).toString('latin1')}…(${payload.length} bytes)`
      : payload.toString('latin1');
  return `${c.server} ${c.kind}: statuses ${JSON.stringify(r.statuses)}${r.hang ? ' HANG' : ''}${r.dropped ? ' DROPPED' : ''} ${JSON.stringify(shown)}`;
}
