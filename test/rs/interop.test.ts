// Interop: the official MCP SDK client (@modelcontextprotocol/client, v2) with its OAuth client
// provider connects to the reference server through the whole OAuth flow (PRM discovery from the
// 401, AS metadata, dynamic registration, PKCE, --auto-approve, token), lists and calls tools,
// and steps up on a 403 insufficient_scope, once per revision the client speaks.
//
// The only test-side help is the "browser": the provider follows the authorization redirect
// itself (auto-approve answers with a redirect to the callback) and hands the callback
// parameters back to the SDK. Everything else is the SDK's own code.

import {
  Client,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  type StoredOAuthClientInformation,
  type StoredOAuthTokens,
  StreamableHTTPClientTransport,
  UnauthorizedError,
} from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVISIONS, type Revision, startTestServer, type TestServer } from './helpers.ts';

/** An OAuth client provider for a headless run against an auto-approving authorization server. */
class AutoApproveProvider implements OAuthClientProvider {
  private client: StoredOAuthClientInformation | undefined;
  private stored: StoredOAuthTokens | undefined;
  private verifier = '';
  private callback: URLSearchParams | undefined;
  private discovery: OAuthDiscoveryState | undefined;
  /** Every authorization URL the SDK sent us to (to assert on scope and resource). */
  readonly authorizationUrls: URL[] = [];
  // A loopback redirect URI that is never contacted: we read the Location header instead.
  readonly redirectUrl = 'http://127.0.0.1:9/callback';
  readonly clientMetadata: OAuthClientMetadata = {
    client_name: 'rs interop test',
    redirect_uris: [this.redirectUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: StoredOAuthClientInformation) {
    this.client = info;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(tokens: StoredOAuthTokens) {
    this.stored = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  // SEP-2352: lets the SDK check that the callback comes from the authorization server it chose.
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.discovery = state;
  }
  discoveryState() {
    return this.discovery;
  }
  async redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url);
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    const location = response.headers.get('location');
    if (response.status !== 302 && response.status !== 303) {
      throw new Error(`authorization endpoint answered ${response.status}: ${await response.text()}`);
    }
    if (location === null) throw new Error('authorization redirect without Location');
    this.callback = new URL(location).searchParams;
  }
  /** The callback parameters of the last authorization (code, state, iss). */
  takeCallback(): URLSearchParams {
    const callback = this.callback;
    if (!callback) throw new Error('no authorization callback captured');
    this.callback = undefined;
    return callback;
  }
}

function newClient(revision: Revision): Client {
  return new Client(
    { name: 'rs-interop', version: '1.0.0' },
    revision === '2026-07-28'
      ? { versionNegotiation: { mode: { pin: '2026-07-28' } } }
      : { supportedProtocolVersions: [revision] },
  );
}

/** Connects; on the first 401 completes the OAuth flow (the SDK throws UnauthorizedError after redirecting) and reconnects. */
async function connect(url: string, revision: Revision, provider: AutoApproveProvider) {
  let client = newClient(revision);
  let transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  try {
    await client.connect(transport);
    return { client, transport };
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err;
  }
  await transport.finishAuth(provider.takeCallback());
  await transport.close();
  client = newClient(revision);
  transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  await client.connect(transport);
  return { client, transport };
}

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ autoApprove: true });
});
afterAll(async () => {
  await s?.close();
});

describe.each(REVISIONS.map((r) => [r]))('SDK client, revision %s', (revision) => {
  it('completes OAuth, lists and calls tools, and steps up on 403', async () => {
    const provider = new AutoApproveProvider();
    const { client, transport } = await connect(s.url, revision, provider);
    try {
      expect(provider.authorizationUrls.length).toBe(1);
      const first = provider.authorizationUrls[0]!;
      expect(first.searchParams.get('resource')).toBe(s.url);
      expect(first.searchParams.get('code_challenge_method')).toBe('S256');
      expect(client.getNegotiatedProtocolVersion()).toBe(revision);

      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(['echo', 'whoami', 'write_note']),
      );
      const echo = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
      expect(echo.content).toEqual([{ type: 'text', text: 'hello' }]);
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      const identity = who.structuredContent as { sub: string; client_id: string; scopes: string[] };
      expect(identity.client_id).toBe(provider.clientInformation()?.client_id);
      expect(identity.scopes).not.toContain('mcp:write');

      // Step-up: write_note needs mcp:write; the 403 challenge names it; the SDK re-authorizes.
      let stepUpRedirected = false;
      try {
        const direct = await client.callTool({ name: 'write_note', arguments: { text: 'note' } });
        // Some SDK versions complete the step-up within the call when authorization is auto-approved.
        expect(JSON.stringify(direct.content)).toMatch(/stored note/);
      } catch (err) {
        if (!(err instanceof UnauthorizedError)) throw err;
        stepUpRedirected = true;
      }
      if (stepUpRedirected) {
        await transport.finishAuth(provider.takeCallback());
        const retried = await client.callTool({ name: 'write_note', arguments: { text: 'note' } });
        expect(JSON.stringify(retried.content)).toMatch(/stored note/);
      }
      expect(provider.authorizationUrls.length).toBe(2);
      const stepUpScopes = (provider.authorizationUrls[1]!.searchParams.get('scope') ?? '').split(' ');
      expect(stepUpScopes).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:write']));
      const after = await client.callTool({ name: 'whoami', arguments: {} });
      expect((after.structuredContent as { scopes: string[] }).scopes).toContain('mcp:write');
    } finally {
      await client.close();
    }
  });
});
