// Shared fixtures of a run (DESIGN.md §Fixtures and the cost of a run).
//
// Registering a client and running an authorization flow are the expensive steps, so each
// fixture is created once per run, lazily (only when a selected check needs it), and shared by
// promise. A check that consumes or revokes what it gets asks for `t.freshGrant()` instead.
// Every secret a fixture obtains is registered with the redactor the moment it exists.
//
// A fixture that cannot be provided throws FixtureUnavailable: `skip` when the target lacks the
// feature or the operator did not supply something (the reason says how to supply it), `error`
// when the harness itself failed. Any other throw becomes `error` in the engine.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { decodeJwt, type JWK } from 'jose';
import { FixtureUnavailable, type FixtureName } from './check.ts';
import {
  type AuthorizationServerDiscovery,
  discoverAuthorizationServer,
  discoverProtectedResource,
  type ProtectedResourceDiscovery,
  selectScopeWithSource,
} from './discovery.ts';
import {
  type Exchange,
  type HttpClient,
  type HttpRecorder,
  type HttpResponse,
  HttpTransportError,
} from './http.ts';
import { LoginError, type LoginDriver, withLoginPurpose } from './login/index.ts';
import { type McpProbe, type McpSession, mcpCall, resultOf } from './mcp.ts';
import { createMinter, type Minter } from './mint.ts';
import {
  type AuthorizationServer,
  authorizationUrl,
  exchangeCode,
  newPkce,
  OAuthStepError,
  type Pkce,
  type RegisteredClient,
  registerClient,
  runAuthorizationCodeFlow,
  type TokenSet,
  validateCallback,
} from './oauth.ts';
import type { Redactor, SecretKind } from './redact.ts';
import { isStateless, type Revision } from './revisions.ts';
import { bearerChallenge, param, parseWwwAuthenticate } from './www-authenticate.ts';

/** The value type of each fixture name. */
export interface FixtureValues {
  /** Protected-resource discovery: the anonymous challenge and every PRM URL tried. */
  prm: ProtectedResourceDiscovery;
  /** Authorization-server discovery for the first `authorization_servers` entry. */
  as: AuthorizationServerDiscovery;
  client: RegisteredClient;
  'second-client': RegisteredClient;
  /** Tokens of a completed authorization flow (or `--token-env`). */
  token: TokenSet;
  /** Tokens of a second user (the reference server picks "bob" from `login_hint=bob`). */
  'token-user-b': TokenSet;
  minter: Minter;
  /** The request the token checks send (see ProtectedRequest). */
  'protected-request': ProtectedRequest;
  /** The scope every grant of the run requests (see GrantScope). */
  scope: GrantScope;
  /** A client leased to the asking check alone while it runs (FixtureSource.leaseClient). */
  'own-client': RegisteredClient;
  /** A token of another service (RS-AUD-01 without a key): see obtainOtherResourceToken. */
  'token-other-resource': OtherResourceToken;
  /** A token issued without `resource` (RS-AUD-03): see obtainNoResourceToken. */
  'token-no-resource': NoResourceToken;
}

/**
 * The scope the run's grants request, and where it came from. MCP §Scope Selection Strategy: the
 * challenge's `scope`, else the protected-resource metadata's `scopes_supported`; when neither
 * names one (issue #12 §4), what the authorization server advertises in `scopes_supported` minus
 * `openid` and `offline_access`, else none. `--scope` overrides all. When the AS refuses a
 * candidate (`invalid_scope`, `access_denied`), the next is tried; the one that got a token is
 * the run's scope.
 */
export interface GrantScope {
  /** Undefined: requests carry no `scope` parameter. */
  scope?: string;
  /** One phrase: "the challenge's scope", "--scope", "the AS's scopes_supported", "none named". */
  source: string;
}

/**
 * The JSON-RPC request the token checks present tokens on. Normally the revision's protected
 * request (protectedProbe). A target may answer that one without a token (routers that make
 * `initialize` public: requirements RS-401-01 "initialize unless configured public"); then token
 * validation cannot be observed on it, so the first of a few harmless methods the target does
 * refuse anonymously (401) is used instead, inside the session the anonymous `initialize` opened,
 * if it opened one, so the request stays valid for the revision.
 */
export interface ProtectedRequest {
  probe: McpProbe;
  /** The anonymous answer to `probe` (discovery reads its challenge instead of asking again). */
  anonymous: HttpResponse;
  /**
   * Set when the revision's usual request was answered without a token: its method and status,
   * the fallback method chosen (if any), and every method the search saw answered without a token.
   */
  publicDefault?: { method: string; status: number; fallback?: string; answered: string[] };
}

/**
 * Tried in this order when the revision's protected request is public on the target: methods
 * without side effects, the most widely served first. `ping` exists in the 2025 revisions only
 * (2026-07-28 answers it -32601 Method not found).
 */
export function fallbackProbeMethods(revision: Revision): readonly string[] {
  return isStateless(revision)
    ? ['resources/list', 'prompts/list']
    : ['ping', 'tools/list', 'resources/list', 'prompts/list'];
}

/** A new, unshared authorization grant. */
export interface Grant {
  client: RegisteredClient;
  tokens: TokenSet;
  callback: URL;
  pkce: Pkce;
  state: string;
}

/** What the engine needs from fixtures; tests of the engine supply their own. */
export interface FixtureSource {
  /** Resolves the fixture, creating it on first call; later calls share the same promise. */
  get<K extends FixtureName>(name: K): Promise<FixtureValues[K]>;
  /** Ids of the exchanges the fixture made (linked as evidence to every check that used it). */
  exchangesOf(name: FixtureName): readonly string[];
  /** A new authorization flow; with `client`, for that client (the check's own), else the shared one. */
  freshGrant(
    http: HttpClient,
    opts?: {
      scope?: string;
      loginHint?: string;
      client?: RegisteredClient;
      extraParams?: [string, string][];
    },
  ): Promise<Grant>;
  /** Runs the login driver on a check-built authorization URL; resolves with the callback URL. */
  loginAt?(http: HttpClient, url: URL): Promise<URL>;
  /**
   * How checks that complete authorizations are kept apart: `per-check` when each can have a
   * client of its own (registration works), `serialized` when all must share one client.
   */
  isolation?(): Promise<'per-check' | 'serialized'>;
  /**
   * A client leased to one check alone until it calls `release` (issue #12 §2): no other check
   * uses it meanwhile, so no other authorization can revoke the grants the check holds. The
   * shared client when serialized (the engine then runs such checks one at a time).
   */
  leaseClient?(http: HttpClient): Promise<{ client: RegisteredClient; release: () => void }>;
  /** Forgets a shared fixture, so the next `get` creates it anew (after a suspected interference). */
  renew?(name: FixtureName): void;
  /** Authorization flows run so far (shared and fresh). */
  readonly authorizationFlows: number;
}

export interface FixtureEnvironment {
  recorder: HttpRecorder;
  redactor: Redactor;
  /** The MCP endpoint URL. */
  target: string;
  revision: Revision;
  login: LoginDriver;
  /** `http://127.0.0.1:<port>/callback` (RFC 8252 §7.3 loopback redirect). */
  redirectUri: string;
  /** Time bound of one login step, in ms. */
  loginTimeoutMs: number;
  /** Pre-supplied credentials (already read from env/files; never from argv). */
  preset?: {
    accessToken?: string;
    accessTokenB?: string;
    clientId?: string;
    clientSecret?: string;
    /** `--foreign-token-env`: a token the operator got from this AS for another service. */
    foreignToken?: string;
  };
  /** `--other-resource URL`: a resource the AS also issues tokens for (RS-AUD-01 asks for one). */
  otherResource?: string;
  /** `--scope`: the scope every grant requests, instead of the one discovery selects. */
  scope?: string;
  /** Most clients the run registers for checks to lease (default 4: the engine's concurrency). */
  clientPoolSize?: number;
  /** A key the target trusts: the embedded server's, or `--mint-key` + `--mint-issuer`. */
  mintKey?: { privateJwk: JWK; issuer: string };
  /** Prints a line for the operator (the manual login driver's URL). */
  log?: (line: string) => void;
}

/** The JSON-RPC request that needs authorization in every revision (requirements RS-401-01). */
export function protectedProbe(revision: Revision, label = 'anonymous MCP request'): McpProbe {
  if (isStateless(revision)) return { method: 'tools/list', params: {}, id: 1, label };
  return {
    method: 'initialize',
    params: {
      protocolVersion: revision,
      capabilities: {},
      clientInfo: { name: 'mcp-auth-conformance', version: '0.1.0' },
    },
    id: 1,
    label,
  };
}

/** The `sub` of a JWT access token, else of the ID token the token response carried; undefined when neither shows one. */
export function subjectOf(tokens: TokenSet): string | undefined {
  for (const jwt of [tokens.accessToken, tokens.raw.id_token]) {
    if (typeof jwt !== 'string') continue;
    try {
      const sub = decodeJwt(jwt).sub;
      if (typeof sub === 'string' && sub !== '') return sub;
    } catch {
      // not a JWT
    }
  }
  return undefined;
}

/** See ProtectedRequest: the revision's protected request, or the first fallback refused anonymously. */
export async function findProtectedRequest(
  http: HttpClient,
  target: string,
  revision: Revision,
): Promise<ProtectedRequest> {
  const primary = protectedProbe(revision);
  const first = await mcpCall(http, target, revision, {
    ...primary,
    label: `anonymous MCP request (${primary.method}: does it need a token?)`,
  });
  const status = first.response.status;
  if (status < 200 || status > 299) return { probe: primary, anonymous: first.response };
  // 2025-*: a session the anonymous initialize opened keeps the follow-up a valid request.
  const sessionId = first.response.headers.get('mcp-session-id') ?? undefined;
  const negotiated = resultOf(first)?.protocolVersion;
  const session: McpSession | undefined = sessionId
    ? { revision, sessionId, protocolVersion: typeof negotiated === 'string' ? negotiated : revision }
    : undefined;
  // Every candidate is asked (a few requests, only on targets with a public protected request),
  // so `answered` is complete; the first one refused with 401 is the fallback.
  const answered = [primary.method];
  let fallback: { probe: McpProbe; anonymous: HttpResponse } | undefined;
  for (const method of fallbackProbeMethods(revision).filter((m) => m !== primary.method)) {
    const probe: McpProbe = { method, params: {}, id: 1, ...(session ? { session } : {}) };
    const reply = await mcpCall(http, target, revision, {
      ...probe,
      label: `anonymous MCP request (${method}: does it need a token?)`,
    });
    if (reply.response.status === 401) fallback ??= { probe, anonymous: reply.response };
    else if (reply.response.status >= 200 && reply.response.status <= 299) answered.push(method);
  }
  const publicDefault = { method: primary.method, status, answered };
  return fallback
    ? { ...fallback, publicDefault: { ...publicDefault, fallback: fallback.probe.method } }
    : { probe: primary, anonymous: first.response, publicDefault };
}

/** The metadata of a discovered AS, or a skip that points at AS-META-01. */
export function authorizationServerOf(discovery: AuthorizationServerDiscovery): AuthorizationServer {
  if (!discovery.metadata) {
    throw new FixtureUnavailable(
      'skip',
      `no authorization-server metadata was found for ${discovery.issuer} (see AS-META-01)`,
    );
  }
  return { issuer: discovery.issuer, metadata: discovery.metadata };
}

export class RunFixtures implements FixtureSource {
  private readonly promises = new Map<FixtureName, Promise<unknown>>();
  private readonly exchanges = new Map<FixtureName, string[]>();
  private flows = 0;

  constructor(private readonly env: FixtureEnvironment) {}

  get authorizationFlows(): number {
    return this.flows;
  }

  get<K extends FixtureName>(name: K): Promise<FixtureValues[K]> {
    let promise = this.promises.get(name);
    if (!promise) {
      const ids: string[] = [];
      this.exchanges.set(name, ids);
      const http = this.env.recorder.scoped((ex: Exchange) => ids.push(ex.id));
      // Shared: its logins belong to every check that waits on it, not to the first asker.
      promise = withLoginPurpose({ shared: SHARED_PURPOSES[name] ?? `the shared fixture "${name}"` }, () =>
        this.create(name, http),
      );
      // A rejection is reported by each check that awaits it; never as an unhandled rejection.
      promise.catch(() => undefined);
      this.promises.set(name, promise);
    }
    return promise as Promise<FixtureValues[K]>;
  }

  exchangesOf(name: FixtureName): readonly string[] {
    return this.exchanges.get(name) ?? [];
  }

  /**
   * Switches the run to `revision` once `--spec auto` has detected it (runner/mcp.ts
   * detectRevision). The fixtures whose shape depends on the revision (the protected request,
   * the discovery order of protected-resource and authorization-server metadata) are dropped and
   * made again on next use; credentials (clients, tokens) stay: a token obtained while the
   * revision was unknown is still a token of this resource.
   */
  setRevision(revision: Revision): void {
    if (revision === this.env.revision) return;
    this.env.revision = revision;
    for (const name of ['protected-request', 'prm', 'as'] as const) {
      this.promises.delete(name);
      this.exchanges.delete(name);
    }
  }

  async freshGrant(
    http: HttpClient,
    opts: {
      scope?: string;
      loginHint?: string;
      client?: RegisteredClient;
      extraParams?: [string, string][];
    } = {},
  ): Promise<Grant> {
    const client = opts.client ?? (await this.get('client'));
    const as = authorizationServerOf(await this.get('as'));
    const scope = opts.scope ?? (await this.get('scope')).scope;
    return this.authorize(http, as, client, {
      ...(scope !== undefined ? { scope } : {}),
      ...(opts.loginHint ? { loginHint: opts.loginHint } : {}),
      ...(opts.extraParams ? { extraParams: opts.extraParams } : {}),
    });
  }

  /**
   * Each check that completes authorizations gets a client of its own when the AS registers
   * clients and the operator did not fix one (`--client-id`); otherwise all share one, and the
   * engine runs them one at a time.
   */
  async isolation(): Promise<'per-check' | 'serialized'> {
    if (this.env.preset?.clientId) return 'serialized';
    const discovery = await this.get('as');
    return typeof discovery.metadata?.registration_endpoint === 'string' ? 'per-check' : 'serialized';
  }

  /**
   * Clients that checks lease one at a time (leaseClient). Registered lazily, at most
   * `clientPoolSize` (the run's concurrency: no more can be in use at once), so a run registers a
   * handful of clients, not one per check (registration endpoints are often rate-limited). When a
   * registration fails once the pool has a client, the pool stops growing and checks wait for a
   * lease instead.
   */
  private readonly pool = {
    clients: [] as RegisteredClient[],
    free: [] as RegisteredClient[],
    waiters: [] as ((client: RegisteredClient) => void)[],
    registering: 0,
    full: false,
  };

  async leaseClient(http: HttpClient): Promise<{ client: RegisteredClient; release: () => void }> {
    if ((await this.isolation()) === 'serialized')
      return { client: await this.get('client'), release: () => undefined };
    const client = await this.takeFromPool(http);
    let released = false;
    return {
      client,
      release: () => {
        if (released) return;
        released = true;
        const next = this.pool.waiters.shift();
        if (next) next(client);
        else this.pool.free.push(client);
      },
    };
  }

  private async takeFromPool(http: HttpClient): Promise<RegisteredClient> {
    const pool = this.pool;
    const free = pool.free.pop();
    if (free) return free;
    const max = Math.max(1, this.env.clientPoolSize ?? 4);
    if (!pool.full && pool.clients.length + pool.registering < max) {
      pool.registering++;
      try {
        const client = await this.register(http, 'mcp-auth-conformance (leased to one check at a time)');
        pool.clients.push(client);
        return client;
      } catch (err) {
        if (pool.clients.length === 0 && pool.registering === 1) throw err;
        pool.full = true; // e.g. a rate-limited registration endpoint: share what exists
      } finally {
        pool.registering--;
      }
    }
    return new Promise<RegisteredClient>((resolve) => pool.waiters.push(resolve));
  }

  renew(name: FixtureName): void {
    this.promises.delete(name);
    this.exchanges.delete(name);
  }

  async loginAt(http: HttpClient, url: URL): Promise<URL> {
    const { redactor, login } = this.env;
    this.flows++;
    return login.login({
      http,
      authorizationUrl: url,
      // A probe may ask for another loopback redirect URI of the harness (another port: RFC 8252
      // §7.3; a registered query): the login ends there. Anything else ends at the run's own.
      redirectUri: loopbackRedirectOf(url) ?? this.env.redirectUri,
      timeoutMs: this.env.loginTimeoutMs,
      onSecret: (value, kind) => redactor.register(value, asSecretKind(kind)),
      ...(this.env.log ? { log: this.env.log } : {}),
    });
  }

  private create(name: FixtureName, http: HttpClient): Promise<unknown> {
    switch (name) {
      case 'prm':
        return this.discoverPrm(http);
      case 'as':
        return this.discoverAs(http);
      case 'client':
        return this.client(http, 'mcp-auth-conformance');
      case 'second-client':
        return this.client(http, 'mcp-auth-conformance (second client)', true);
      case 'token':
        return this.token(http);
      case 'token-user-b':
        return this.tokenUserB(http);
      case 'minter':
        return this.minter();
      case 'protected-request':
        return findProtectedRequest(http, this.env.target, this.env.revision);
      case 'scope':
        return this.grantScope();
      case 'own-client':
        // Leased per check, never shared: the engine asks leaseClient() for each check that declares it.
        return Promise.reject(new Error('own-client is leased per check (FixtureSource.leaseClient)'));
      case 'token-other-resource':
        return obtainOtherResourceToken(this.ownGrants(http));
      case 'token-no-resource':
        return obtainNoResourceToken(this.ownGrants(http));
    }
  }

  private async discoverPrm(http: HttpClient): Promise<ProtectedResourceDiscovery> {
    const { target, revision, recorder } = this.env;
    const probe = async () => {
      // The anonymous request that needs a token (one exchange, shared with the token checks);
      // its exchanges are evidence of discovery too.
      const reply = await this.get('protected-request');
      this.exchanges.get('prm')?.push(...this.exchangesOf('protected-request'));
      // The PRM URL the target names in its challenge may live on another origin: the target
      // named it, so it may be contacted (DESIGN.md: "the target and the servers it names").
      const challenge = bearerChallenge(
        parseWwwAuthenticate(reply.anonymous.headers.getAll('www-authenticate')),
      );
      const metadataUrl = challenge && param(challenge, 'resource_metadata');
      if (metadataUrl && URL.canParse(metadataUrl)) recorder.allowOrigin(metadataUrl);
      return reply.anonymous;
    };
    return discoverProtectedResource(http, target, revision, probe);
  }

  private async discoverAs(http: HttpClient): Promise<AuthorizationServerDiscovery> {
    const prm = await this.get('prm');
    const servers = prm.prm?.authorization_servers;
    const issuer = Array.isArray(servers)
      ? servers.find((s): s is string => typeof s === 'string')
      : undefined;
    if (!issuer) {
      throw new FixtureUnavailable(
        'skip',
        prm.prm
          ? 'the protected-resource metadata names no authorization server (see RS-PRM-07)'
          : 'no protected-resource metadata was found, so no authorization server is known (see RS-PRM-01)',
      );
    }
    if (!URL.canParse(issuer)) {
      throw new FixtureUnavailable(
        'skip',
        `the authorization server "${issuer}" is not a URL (see RS-PRM-08)`,
      );
    }
    this.env.recorder.allowOrigin(issuer);
    const discovery = await discoverAuthorizationServer(http, issuer, this.env.revision);
    // Endpoints the AS names are part of "the servers the target names".
    for (const key of [
      'authorization_endpoint',
      'token_endpoint',
      'registration_endpoint',
      'revocation_endpoint',
      'jwks_uri',
    ]) {
      const url = discovery.metadata?.[key];
      if (typeof url === 'string' && URL.canParse(url)) this.env.recorder.allowOrigin(url);
    }
    return discovery;
  }

  private async client(http: HttpClient, clientName: string, second = false): Promise<RegisteredClient> {
    const { preset, redactor, redirectUri } = this.env;
    if (preset?.clientId && !second) {
      redactor.register(preset.clientSecret, 'client_secret');
      return {
        clientId: preset.clientId,
        ...(preset.clientSecret ? { clientSecret: preset.clientSecret } : {}),
        authMethod: preset.clientSecret ? 'client_secret_basic' : 'none',
        redirectUris: [redirectUri],
      };
    }
    const as = authorizationServerOf(await this.get('as'));
    if (typeof as.metadata.registration_endpoint !== 'string' && second) {
      // No registration: an invented client_id stands in for "another client" (issue #13 §7);
      // the binding checks conclude nothing if the AS refuses it as a client.
      return {
        clientId: `mcp-auth-conformance-other-${randomBytes(8).toString('hex')}`,
        authMethod: 'none',
        redirectUris: [redirectUri],
        invented: true,
      };
    }
    if (typeof as.metadata.registration_endpoint !== 'string') {
      throw new FixtureUnavailable(
        'skip',
        `the authorization server offers no registration_endpoint, so the harness cannot register ${second ? 'a second' : 'a'} client`,
        second
          ? 'checks needing two clients cannot run against this AS'
          : 'pass --client-id ID (and --client-secret-env NAME for a confidential client)',
      );
    }
    return this.register(http, clientName);
  }

  /** Registers a public native client with the harness's loopback redirect URI (RFC 7591, RFC 8252 §7.3). */
  private async register(http: HttpClient, clientName: string): Promise<RegisteredClient> {
    const { redactor, redirectUri } = this.env;
    const as = authorizationServerOf(await this.get('as'));
    // MCP 2026-07-28 §Client Registration: a DCR client sends application_type; CLI/loopback = native.
    const client = await registerClient(http, as, {
      redirectUris: [redirectUri],
      authMethod: 'none',
      clientName,
      applicationType: 'native',
      grantTypes: ['authorization_code', 'refresh_token'],
      onSecret: (value, kind) => redactor.register(value, asSecretKind(kind)),
    });
    redactor.register(client.clientSecret, 'client_secret');
    return client;
  }

  /**
   * The run's shared token, from an authorization of a client used for nothing else (so no
   * check's authorization can revoke it, issue #12 §2), requesting the first scope candidate the
   * AS grants (GrantScope).
   */
  private async token(http: HttpClient): Promise<TokenSet> {
    const preset = this.env.preset?.accessToken;
    if (preset) {
      this.env.redactor.register(preset, 'access_token');
      return { accessToken: preset, tokenType: 'Bearer', raw: {} };
    }
    const client = await this.dedicatedClient(http, 'shared token');
    const as = authorizationServerOf(await this.get('as'));
    const candidates = await this.scopeCandidates();
    const refused: string[] = [];
    for (const candidate of candidates) {
      try {
        const grant = await this.authorize(
          http,
          as,
          client,
          candidate.scope !== undefined ? { scope: candidate.scope } : {},
        );
        this.workingScope = candidate;
        return grant.tokens;
      } catch (err) {
        if (!(
          err instanceof OAuthStepError &&
          err.step === 'authorization' &&
          SCOPE_REFUSALS.includes(err.error ?? '')
        ))
          throw err;
        refused.push(`${describeScope(candidate)} → ${err.error}`);
      }
    }
    throw new ScopeRefused(refused);
  }

  /** The scope of the run (GrantScope): the candidate the shared token's authorization was granted. */
  private async grantScope(): Promise<GrantScope> {
    if (!this.env.preset?.accessToken) {
      try {
        await this.get('token');
      } catch (err) {
        // Every scope refused: nothing that needs a grant can run. Any other failure of the
        // token flow does not say the scope is wrong: fall back to the first candidate.
        if (err instanceof ScopeRefused) throw err;
      }
      if (this.workingScope) return this.workingScope;
    }
    return (await this.scopeCandidates())[0]!;
  }

  private workingScope: GrantScope | undefined;

  /** GrantScope's candidates, in order, without repeats. */
  private async scopeCandidates(): Promise<GrantScope[]> {
    if (this.env.scope !== undefined) return [{ scope: this.env.scope, source: '--scope' }];
    const out: GrantScope[] = [];
    const add = (candidate: GrantScope) => {
      if (!out.some((c) => c.scope === candidate.scope)) out.push(candidate);
    };
    const selected = selectScopeWithSource(await this.get('prm'));
    if (selected) add(selected);
    const advertised = (await this.get('as').catch(() => undefined))?.metadata?.scopes_supported;
    if (Array.isArray(advertised)) {
      // openid and offline_access ask for an ID token and a refresh token, not for MCP access.
      const scopes = advertised.filter(
        (s): s is string => typeof s === 'string' && s !== '' && s !== 'openid' && s !== 'offline_access',
      );
      if (scopes.length > 0)
        add({ scope: scopes.join(' '), source: "the authorization server's scopes_supported" });
    }
    add({ source: 'none named (no scope parameter)' });
    return out;
  }

  private readonly dedicated = new Map<string, Promise<RegisteredClient>>();

  /**
   * A client for one shared fixture alone (registered once): the shared token's grant must not
   * be revocable by any check's authorization. Serialized runs have only the one client.
   */
  private dedicatedClient(http: HttpClient, purpose: string): Promise<RegisteredClient> {
    let client = this.dedicated.get(purpose);
    if (!client) {
      client = this.isolation().then((mode) =>
        mode === 'serialized' ? this.get('client') : this.register(http, `mcp-auth-conformance (${purpose})`),
      );
      client.catch(() => undefined);
      this.dedicated.set(purpose, client);
    }
    return client;
  }

  /**
   * A second user's token: `--token-b-env`, or a second authorization with `login_hint=bob` (the
   * reference server signs bob in; OIDC Core §3.1.2.1 makes the hint advisory). Checks that use
   * it (a session or state of A must not serve B) prove nothing when B is A, so unless the
   * operator supplied it, the subjects must be seen to differ: the `sub` of JWT access tokens, or
   * of ID tokens. Otherwise the fixture is unavailable, with the reason.
   */
  private async tokenUserB(http: HttpClient): Promise<TokenSet> {
    const preset = this.env.preset?.accessTokenB;
    if (preset) {
      this.env.redactor.register(preset, 'access_token');
      return { accessToken: preset, tokenType: 'Bearer', raw: {} };
    }
    const a = await this.get('token');
    const client = await this.dedicatedClient(http, 'second user');
    const as = authorizationServerOf(await this.get('as'));
    const { scope } = await this.get('scope');
    const b = (
      await this.authorize(http, as, client, { loginHint: 'bob', ...(scope !== undefined ? { scope } : {}) })
    ).tokens;
    const subA = subjectOf(a);
    const subB = subjectOf(b);
    const how = "give a second user's access token with --token-b-env NAME";
    if (subA === undefined || subB === undefined)
      throw new FixtureUnavailable(
        'skip',
        'the harness cannot show that the second sign-in (login_hint=bob) is another user: the tokens are opaque and no ID token names the subject',
        how,
      );
    if (subA === subB)
      throw new FixtureUnavailable(
        'skip',
        `the second sign-in (login_hint=bob) gave a token for the same user (both tokens name one sub): the authorization server does not honour login_hint, or the login step signs in one user`,
        how,
      );
    return b;
  }

  private async authorize(
    http: HttpClient,
    as: AuthorizationServer,
    client: RegisteredClient,
    opts: { scope?: string; loginHint?: string; extraParams?: [string, string][] },
  ): Promise<Grant> {
    const { redactor, target, redirectUri, login } = this.env;
    this.flows++;
    const flow = await runAuthorizationCodeFlow(http, as, client, login, {
      resource: target,
      redirectUri,
      loginTimeoutMs: this.env.loginTimeoutMs,
      // Secrets the flow and the login driver handle are registered the moment they exist.
      onSecret: (value, kind) => redactor.register(value, asSecretKind(kind)),
      ...(this.env.log ? { log: this.env.log } : {}),
      ...(opts.scope !== undefined ? { scope: opts.scope } : {}),
      ...(opts.loginHint ? { loginHint: opts.loginHint } : {}),
      ...(opts.extraParams ? { extraParams: opts.extraParams } : {}),
    });
    registerTokens(redactor, flow.tokens);
    redactor.register(flow.callback.searchParams.get('code'), 'code');
    redactor.register(flow.pkce.verifier, 'code_verifier');
    return { client, ...flow };
  }

  /** What obtainOtherResourceToken / obtainNoResourceToken need from the run. */
  private ownGrants(http: HttpClient): OwnGrantContext {
    return {
      http,
      target: this.env.target,
      redactor: this.env.redactor,
      recorder: this.env.recorder,
      ...(this.env.otherResource ? { otherResource: this.env.otherResource } : {}),
      ...(this.env.preset?.foreignToken ? { foreignToken: this.env.preset.foreignToken } : {}),
      as: async () => authorizationServerOf(await this.get('as')),
      sharedClient: () => this.get('client'),
      scope: async () => (await this.get('scope')).scope,
      login: async (url) => {
        this.flows++;
        return this.env.login.login({
          http,
          authorizationUrl: url,
          redirectUri: this.env.redirectUri,
          timeoutMs: this.env.loginTimeoutMs,
          onSecret: (value, kind) => this.env.redactor.register(value, asSecretKind(kind)),
          ...(this.env.log ? { log: this.env.log } : {}),
        });
      },
      redirectUri: this.env.redirectUri,
    };
  }

  private async minter(): Promise<Minter> {
    const key = this.env.mintKey;
    if (!key) {
      throw new FixtureUnavailable(
        'skip',
        'no signing key the target trusts, so the harness cannot forge tokens',
        'pass --mint-key FILE (a private JWK the target trusts) and --mint-issuer URL',
      );
    }
    const minter = await createMinter({
      privateJwk: key.privateJwk,
      issuer: key.issuer,
      resource: this.env.target,
    });
    return registeringMinter(minter, this.env.redactor);
  }
}

/** How a person is told what a shared fixture's authorization is for (the manual login). */
const SHARED_PURPOSES: Partial<Record<FixtureName, string>> = {
  token: "the run's shared access token (every check that presents a token uses it)",
  'token-user-b': "a second user's token (login_hint=bob; sign in as another user if the server asks)",
  scope: 'finding the scope the authorization server grants',
};

const SECRET_KINDS: readonly SecretKind[] = [
  'access_token',
  'refresh_token',
  'id_token',
  'code',
  'client_secret',
  'code_verifier',
  'cookie',
  'password',
  'token',
];

/** C2's hook kinds (runner/CONTRACT.md §Secrets) that are named differently here. */
const HOOK_KINDS: Record<string, SecretKind> = { authorization_code: 'code', 'login-secret': 'password' };

function asSecretKind(kind: string): SecretKind {
  if (HOOK_KINDS[kind]) return HOOK_KINDS[kind];
  return (SECRET_KINDS as readonly string[]).includes(kind) ? (kind as SecretKind) : 'token';
}

export function registerTokens(redactor: Redactor, tokens: TokenSet): void {
  redactor.register(tokens.accessToken, 'access_token');
  redactor.register(tokens.refreshToken, 'refresh_token');
  const idToken = tokens.raw.id_token;
  if (typeof idToken === 'string') redactor.register(idToken, 'id_token');
}

/** A minter whose every token is registered as a secret before a check can send it anywhere. */
function registeringMinter(minter: Minter, redactor: Redactor): Minter {
  const reg = <T>(token: T): T => {
    if (typeof token === 'string') redactor.register(token, 'access_token');
    return token;
  };
  return {
    ...minter,
    mint: async (opts) => reg(await minter.mint(opts)),
    unsigned: (opts) => reg(minter.unsigned(opts)),
    withForeignKey: async (opts) => reg(await minter.withForeignKey(opts)),
    hs256WithPublicKey: async (opts) => reg(await minter.hs256WithPublicKey(opts)),
  };
}

/** Reads a private JWK for `--mint-key FILE`; a clear sentence when the file is not one. */
export function readMintKey(file: string): JWK {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--mint-key ${file}: cannot read a JSON Web Key from it (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || typeof (parsed as JWK).kty !== 'string') {
    throw new Error(`--mint-key ${file}: the file is not a JSON Web Key (no "kty" member)`);
  }
  if (typeof (parsed as JWK).d !== 'string') {
    throw new Error(
      `--mint-key ${file}: the key has no private part ("d"); the harness needs a key that can sign`,
    );
  }
  return parsed as JWK;
}

/** A free loopback port for the harness's redirect URI (RFC 8252 §7.3). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Authorization errors that say the requested scope is not acceptable (OAuth 2.1 §4.1.2.1). */
const SCOPE_REFUSALS: readonly string[] = ['invalid_scope', 'access_denied'];

/** The AS refused every scope candidate: every check that needs a grant skips with this one reason. */
export class ScopeRefused extends FixtureUnavailable {
  constructor(readonly tried: readonly string[]) {
    super(
      'skip',
      `the authorization server refused every scope tried: ${tried.join('; ')}`,
      'give the scope to request with --scope "SCOPE …"',
    );
  }
}

function describeScope(candidate: GrantScope): string {
  return candidate.scope === undefined
    ? `no scope (${candidate.source})`
    : `"${candidate.scope}" (${candidate.source})`;
}

/** Turns a transport failure inside a fixture into the error the dependent checks will carry. */
export function describeFixtureFailure(name: FixtureName, err: unknown): FixtureUnavailable {
  if (err instanceof FixtureUnavailable) return err;
  if (err instanceof HttpTransportError) {
    return new FixtureUnavailable('error', `fixture "${name}" could not be created: ${err.message}`);
  }
  return new FixtureUnavailable(
    'error',
    `fixture "${name}" could not be created: ${(err as Error)?.message ?? String(err)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Tokens for another resource, and without a resource (RS-AUD-01 and RS-AUD-03 without a key).
//
// Each is an authorization of its own (issue #13 item 3), made with a client of its own when the
// AS offers registration: an AS that revokes every earlier grant of a user and client on a new
// authorization (legal) then cannot revoke the token under test by another check's login, nor can
// these logins revoke the shared token.

/** What the own-grant fixtures need from the run (RunFixtures.ownGrants builds it). */
export interface OwnGrantContext {
  http: HttpClient;
  /** The MCP endpoint URL. */
  target: string;
  redactor: Redactor;
  recorder: HttpRecorder;
  redirectUri: string;
  otherResource?: string;
  foreignToken?: string;
  as(): Promise<AuthorizationServer>;
  sharedClient(): Promise<RegisteredClient>;
  scope(): Promise<string | undefined>;
  /** Runs the login driver on an authorization URL (counted as an authorization flow). */
  login(url: URL): Promise<URL>;
}

/** The audience of a token as far as the harness can read it. */
export interface TokenAudience {
  /** The audience values (`aud`), or [] when the token has none. Undefined: unknown. */
  values?: string[];
  /** jwt: the token's own `aud` claim; introspection: RFC 7662 `aud`; unknown: opaque, no introspection. */
  source: 'jwt' | 'introspection' | 'unknown';
  /** RFC 7662 `active`, when introspected. */
  active?: boolean;
  /** Why the audience is unknown, or what introspection answered. */
  detail?: string;
}

/** One `resource` the AS was asked for, and what came of it. */
export interface ResourceAttempt {
  resource: string;
  /** operator: --other-resource; synthetic: made up by the harness. */
  origin: 'operator' | 'synthetic';
  /** `issued`, or the refusal in words (`token request: error=invalid_target (…)`). */
  outcome: string;
  /** The audience of the issued token (present when issued). */
  audience?: TokenAudience;
}

export interface OtherResourceToken {
  /** operator: --foreign-token-env; authorization-server: requested by the harness with `resource`. */
  source: 'operator' | 'authorization-server';
  /** The resource the token was requested for (authorization-server source). */
  resource?: string;
  accessToken: string;
  audience: TokenAudience;
  attempts: ResourceAttempt[];
}

export interface NoResourceToken {
  accessToken: string;
  audience: TokenAudience;
}

const HOW_FOREIGN =
  'give a token of another service from this authorization server with --foreign-token-env NAME, name a resource the authorization server also serves with --other-resource URL, or a key the target trusts with --mint-key FILE --mint-issuer URL';

/**
 * A token the target's AS issued for ANOTHER resource: the operator's (--foreign-token-env), else
 * one the harness asks for with RFC 8707 `resource` = --other-resource, else a synthetic resource
 * on the AS's own host, else a sibling path of the target. Unavailable (skip, naming the options
 * that would make RS-AUD-01 run) when the AS refuses every one, or ignores `resource` (the token it
 * issues names the target).
 */
export async function obtainOtherResourceToken(ctx: OwnGrantContext): Promise<OtherResourceToken> {
  if (ctx.foreignToken) {
    ctx.redactor.register(ctx.foreignToken, 'access_token');
    return {
      source: 'operator',
      accessToken: ctx.foreignToken,
      audience: await readAudience(ctx, ctx.foreignToken, undefined),
      attempts: [],
    };
  }
  const as = await ctx.as();
  const candidates: { resource: string; origin: ResourceAttempt['origin'] }[] = [];
  if (ctx.otherResource) candidates.push({ resource: ctx.otherResource, origin: 'operator' });
  candidates.push({
    resource: new URL('/mcp-auth-conformance/other-resource', as.issuer).href,
    origin: 'synthetic',
  });
  const sibling = new URL(ctx.target);
  sibling.pathname = `${sibling.pathname.replace(/\/$/, '')}-other`;
  candidates.push({ resource: sibling.href, origin: 'synthetic' });
  const client = await ownClient(ctx, as, 'mcp-auth-conformance (token for another resource)');
  const attempts: ResourceAttempt[] = [];
  for (const { resource, origin } of candidates) {
    if (sameResourceId(resource, ctx.target)) continue;
    const got = await ownGrant(ctx, as, client, resource);
    if ('refusal' in got) {
      attempts.push({ resource, origin, outcome: got.refusal });
      continue;
    }
    const audience = await readAudience(ctx, got.tokens.accessToken, client);
    attempts.push({ resource, origin, outcome: 'issued', audience });
    if (audience.values?.some((aud) => sameResourceId(aud, ctx.target))) {
      throw new FixtureUnavailable(
        'skip',
        `the authorization server ignores resource: the token it issued for ${resource} names ${ctx.target} in its audience (${audience.source}: ${JSON.stringify(audience.values)}), so it cannot give a token for another resource`,
        HOW_FOREIGN,
      );
    }
    return {
      source: 'authorization-server',
      resource,
      accessToken: got.tokens.accessToken,
      audience,
      attempts,
    };
  }
  throw new FixtureUnavailable(
    'skip',
    `the authorization server refused a token for every other resource tried: ${attempts.map((a) => `${a.resource} (${a.outcome})`).join('; ')}`,
    HOW_FOREIGN,
  );
}

/** A token from an authorization whose requests carry no `resource` (RFC 8707 §2: the AS picks a default). */
export async function obtainNoResourceToken(ctx: OwnGrantContext): Promise<NoResourceToken> {
  const as = await ctx.as();
  const client = await ownClient(ctx, as, 'mcp-auth-conformance (token without resource)');
  const got = await ownGrant(ctx, as, client, undefined);
  if ('refusal' in got) {
    throw new FixtureUnavailable(
      'skip',
      `the authorization server refuses an authorization without resource (${got.refusal}); RFC 8707 §2 allows that, so there is no token with a default audience to present`,
    );
  }
  return {
    accessToken: got.tokens.accessToken,
    audience: await readAudience(ctx, got.tokens.accessToken, client),
  };
}

/** A client of its own (registered now) when the AS offers registration, else the shared one. */
async function ownClient(
  ctx: OwnGrantContext,
  as: AuthorizationServer,
  clientName: string,
): Promise<RegisteredClient> {
  if (typeof as.metadata.registration_endpoint !== 'string') return ctx.sharedClient();
  try {
    const client = await registerClient(ctx.http, as, {
      redirectUris: [ctx.redirectUri],
      authMethod: 'none',
      clientName,
      applicationType: 'native',
      grantTypes: ['authorization_code', 'refresh_token'],
      onSecret: (value, kind) => ctx.redactor.register(value, asSecretKind(kind)),
    });
    ctx.redactor.register(client.clientSecret, 'client_secret');
    return client;
  } catch (err) {
    if (!(err instanceof OAuthStepError)) throw err;
    // Registration refused this time (a rate limit, a policy): the shared client still works.
    return ctx.sharedClient();
  }
}

/**
 * One authorization code flow with `resource` on both requests (or on neither), PKCE and state.
 * A refusal by the AS (an error redirect, an error page, a token error) is returned in words.
 */
async function ownGrant(
  ctx: OwnGrantContext,
  as: AuthorizationServer,
  client: RegisteredClient,
  resource: string | undefined,
): Promise<{ tokens: TokenSet } | { refusal: string }> {
  const pkce = await newPkce();
  ctx.redactor.register(pkce.verifier, 'code_verifier');
  const state = randomState();
  const scope = await ctx.scope();
  const url = authorizationUrl(as, client, {
    redirectUri: ctx.redirectUri,
    state,
    pkce,
    ...(scope ? { scope } : {}),
    ...(resource !== undefined ? { resource } : {}),
  });
  try {
    const callback = await ctx.login(url);
    const code = validateCallback(as, client, callback, state);
    ctx.redactor.register(code, 'code');
    const tokens = await exchangeCode(
      ctx.http,
      as,
      client,
      {
        code,
        verifier: pkce.verifier,
        redirectUri: ctx.redirectUri,
        ...(resource !== undefined ? { resource } : {}),
      },
      { onSecret: (value, kind) => ctx.redactor.register(value, asSecretKind(kind)) },
    );
    registerTokens(ctx.redactor, tokens);
    return { tokens };
  } catch (err) {
    if (err instanceof OAuthStepError) return { refusal: `${err.step}: ${err.message}` };
    if (err instanceof LoginError) return { refusal: `authorization: ${err.message}` };
    throw err;
  }
}

/**
 * The audience of a token: its `aud` claim when it is a JWT, else RFC 7662 introspection when the
 * AS advertises an introspection_endpoint (the harness's client identifies itself; an AS that
 * wants other credentials answers 401, and the audience stays unknown).
 */
export async function readAudience(
  ctx: Pick<OwnGrantContext, 'http' | 'recorder' | 'as'>,
  token: string,
  client: RegisteredClient | undefined,
): Promise<TokenAudience> {
  try {
    const claims = decodeJwt(token);
    return { values: audienceValues(claims.aud), source: 'jwt' };
  } catch {
    // opaque: ask the AS
  }
  const as = await ctx.as().catch(() => undefined);
  const endpoint = as?.metadata.introspection_endpoint;
  if (typeof endpoint !== 'string' || !URL.canParse(endpoint))
    return {
      source: 'unknown',
      detail: 'the token is opaque and the authorization server advertises no introspection_endpoint',
    };
  ctx.recorder.allowOrigin(endpoint);
  const form: [string, string][] = [
    ['token', token],
    ['token_type_hint', 'access_token'],
  ];
  const headers: [string, string][] = [['accept', 'application/json']];
  if (client?.clientSecret && client.authMethod === 'client_secret_basic') {
    const basic = Buffer.from(
      `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
    ).toString('base64');
    headers.push(['authorization', `Basic ${basic}`]);
  } else if (client) {
    form.push(['client_id', client.clientId]);
    if (client.clientSecret) form.push(['client_secret', client.clientSecret]);
  }
  const response = await ctx.http.request(endpoint, {
    method: 'POST',
    form,
    headers,
    label: 'token introspection (RFC 7662): the audience of a token for another resource',
  });
  const body = response.json() as Record<string, unknown> | undefined;
  if (
    response.status !== 200 ||
    body === null ||
    typeof body !== 'object' ||
    typeof body.active !== 'boolean'
  )
    return {
      source: 'unknown',
      detail: `introspection answered ${response.status} without an RFC 7662 answer`,
    };
  return {
    values: audienceValues(body.aud),
    source: 'introspection',
    active: body.active,
    detail: `introspection: active ${String(body.active)}`,
  };
}

function audienceValues(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === 'string');
  return [];
}

/** Equal, or equal once scheme and host are lower-cased (MCP §Canonical Server URI). */
export function sameResourceId(a: string, b: string): boolean {
  if (a === b) return true;
  const lower = (u: string) => {
    const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i.exec(u);
    return m ? `${m[1]!.toLowerCase()}${m[2]}` : u;
  };
  return lower(a) === lower(b);
}

function randomState(): string {
  return randomBytes(16).toString('base64url');
}

/** The request's redirect_uri when it is an http loopback URI (the harness's own listeners), else undefined. */
function loopbackRedirectOf(url: URL): string | undefined {
  const raw = url.searchParams.get('redirect_uri');
  if (raw === null || !URL.canParse(raw)) return undefined;
  const u = new URL(raw);
  return u.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname) ? raw : undefined;
}
