// mcp.ts against a real SDK server (createMcpHandler), for each revision: the handshake or
// server/discover succeeds and ordinary requests get valid results; plus the request shapes and
// the SSE parser on their own.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpRecorder, makeHeaders } from '../../runner/http.ts';
import {
  buildMcpRequest,
  encodeHeaderValue,
  mcpCall,
  openSession,
  PUBLIC_METHOD_CANDIDATES,
  parseJsonRpcReply,
  resultOf,
  sseData,
} from '../../runner/mcp.ts';
import { REVISIONS } from '../../runner/revisions.ts';
import { type SdkServer, startSdkServer } from './helpers/sdk-server.ts';

describe('mcp.ts against the official SDK server', () => {
  let sdk: SdkServer;
  let http: HttpRecorder;
  beforeAll(async () => {
    sdk = await startSdkServer();
    http = new HttpRecorder({ allowedOrigins: [sdk.url] });
  });
  afterAll(async () => {
    await http.close();
    await sdk.close();
  });

  for (const revision of REVISIONS) {
    describe(revision, () => {
      it('opens a session (or discovers) and lists, calls, reads, gets', async () => {
        const { session, replies } = await openSession(http, sdk.url, revision);
        expect(session.revision).toBe(revision);
        if (revision === '2026-07-28') {
          expect(replies).toHaveLength(1);
          expect(resultOf(replies[0]!)?.supportedVersions).toContain('2026-07-28');
        } else {
          expect(replies).toHaveLength(2);
          expect(session.protocolVersion).toBe(revision);
          expect(replies[1]!.response.status).toBe(202);
        }

        const list = await mcpCall(http, sdk.url, revision, { method: 'tools/list', session });
        expect(list.response.status).toBe(200);
        expect(resultOf(list)?.tools).toEqual([expect.objectContaining({ name: 'echo' })]);

        const call = await mcpCall(http, sdk.url, revision, {
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: 'héllo wörld' } },
          session,
        });
        expect(resultOf(call)?.content).toEqual([{ type: 'text', text: 'héllo wörld' }]);

        const read = await mcpCall(http, sdk.url, revision, {
          method: 'resources/read',
          params: { uri: 'note://one' },
          session,
        });
        expect(resultOf(read)?.contents).toEqual([expect.objectContaining({ text: 'hello' })]);

        const prompt = await mcpCall(http, sdk.url, revision, {
          method: 'prompts/get',
          params: { name: 'greet' },
          session,
        });
        expect(resultOf(prompt)?.messages).toHaveLength(1);

        // ping exists in the 2025 revisions; the SDK's 2026-07-28 leg no longer knows it
        // (unknown method: 404 + -32601, 2026-07-28 streamable-http.mdx).
        const ping = await mcpCall(http, sdk.url, revision, { method: 'ping', session });
        if (revision === '2026-07-28') {
          expect(ping.response.status).toBe(404);
          expect((ping.message?.error as { code?: number }).code).toBe(-32601);
        } else {
          expect(resultOf(ping)).toEqual({});
        }
      });
    });
  }

  it('2026-07-28: the SDK rejects a probe without Mcp-Method (so the shape matters)', async () => {
    const reply = await mcpCall(http, sdk.url, '2026-07-28', {
      method: 'tools/list',
      omitHeaders: ['mcp-method'],
    });
    expect(reply.response.status).toBe(400);
    expect(reply.message?.error).toBeDefined();
  });

  it('2026-07-28: a mismatching Mcp-Name override is rejected as a header mismatch', async () => {
    const reply = await mcpCall(http, sdk.url, '2026-07-28', {
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'x' } },
      headers: [['mcp-name', 'other']],
    });
    expect(reply.response.status).toBe(400);
    expect((reply.message?.error as { code?: number }).code).toBe(-32020);
  });
});

describe('buildMcpRequest shapes', () => {
  it('2026-07-28: headers and the _meta envelope', () => {
    const { headers, body } = buildMcpRequest('http://x/mcp', '2026-07-28', {
      method: 'tools/call',
      params: { name: 'echo', arguments: {} },
      id: 7,
      token: 'tok',
    });
    expect(headers).toEqual([
      ['content-type', 'application/json'],
      ['accept', 'application/json, text/event-stream'],
      ['mcp-protocol-version', '2026-07-28'],
      ['mcp-method', 'tools/call'],
      ['mcp-name', 'echo'],
      ['authorization', 'Bearer tok'],
    ]);
    const msg = JSON.parse(body);
    expect(msg).toMatchObject({ jsonrpc: '2.0', id: 7, method: 'tools/call' });
    expect(msg.params._meta['io.modelcontextprotocol/protocolVersion']).toBe('2026-07-28');
    expect(msg.params._meta['io.modelcontextprotocol/clientInfo']).toEqual({
      name: 'mcp-auth-conformance',
      version: '0.1.0',
    });
  });

  it('2025-11-25: initialize has no MCP-Protocol-Version; later requests carry version and session', () => {
    const init = buildMcpRequest('http://x/mcp', '2025-11-25', { method: 'initialize', id: 1 });
    expect(init.headers.map(([n]) => n)).not.toContain('mcp-protocol-version');
    expect(JSON.parse(init.body).params).toMatchObject({ protocolVersion: '2025-11-25', capabilities: {} });
    const later = buildMcpRequest('http://x/mcp', '2025-11-25', {
      method: 'tools/list',
      session: { revision: '2025-11-25', protocolVersion: '2025-06-18', sessionId: 'sid-1' },
    });
    expect(later.headers).toContainEqual(['mcp-protocol-version', '2025-06-18']);
    expect(later.headers).toContainEqual(['mcp-session-id', 'sid-1']);
    expect(later.headers.map(([n]) => n)).not.toContain('mcp-method');
  });

  it('notifications have no id; overrides may repeat a header; omissions drop it', () => {
    const { headers, body } = buildMcpRequest('http://x/mcp', '2025-06-18', {
      method: 'notifications/initialized',
      id: null,
      token: 'a',
      headers: [
        ['authorization', 'Bearer a'],
        ['authorization', 'Bearer b'],
      ],
      omitHeaders: ['Accept'],
    });
    expect('id' in JSON.parse(body)).toBe(false);
    expect(headers.filter(([n]) => n === 'authorization')).toHaveLength(2);
    expect(headers.map(([n]) => n)).not.toContain('accept');
  });

  it('caller _meta keys win over the envelope (for mismatch probes)', () => {
    const { body } = buildMcpRequest('http://x/mcp', '2026-07-28', {
      method: 'tools/list',
      params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2025-11-25' } },
    });
    expect(JSON.parse(body).params._meta['io.modelcontextprotocol/protocolVersion']).toBe('2025-11-25');
  });

  it('header value encoding for non-ASCII names', () => {
    expect(encodeHeaderValue('echo')).toBe('echo');
    expect(encodeHeaderValue('wörld')).toBe(`=?base64?${Buffer.from('wörld').toString('base64')}?=`);
    expect(encodeHeaderValue(' x')).toMatch(/^=\?base64\?/);
  });

  it('PUBLIC_METHOD_CANDIDATES is the RS-PUB list of issue #5', () => {
    expect(PUBLIC_METHOD_CANDIDATES).toEqual([
      'initialize',
      'notifications/initialized',
      'ping',
      'tools/list',
      'tools/call',
      'resources/list',
      'resources/read',
      'prompts/list',
      'prompts/get',
      'server/discover',
    ]);
  });
});

describe('reply parsing', () => {
  const reply = (contentType: string, text: string) =>
    ({ headers: makeHeaders([['content-type', contentType]]), text }) as Parameters<
      typeof parseJsonRpcReply
    >[0];

  it('SSE: data lines joined, comments skipped, the response with the matching id taken', () => {
    const text = [
      ': keepalive',
      'event: message',
      'data: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}',
      '',
      'id: 2',
      'data: {"jsonrpc":"2.0",',
      'data:"id":5,"result":{"ok":true}}',
      '',
    ].join('\r\n');
    expect(sseData(text)).toHaveLength(2);
    expect(parseJsonRpcReply(reply('text/event-stream; charset=utf-8', text), 5)).toEqual({
      jsonrpc: '2.0',
      id: 5,
      result: { ok: true },
    });
  });

  it('JSON bodies, and garbage gives undefined rather than a throw', () => {
    expect(
      parseJsonRpcReply(reply('application/json', '{"jsonrpc":"2.0","id":1,"error":{"code":-1}}'), 1),
    ).toMatchObject({
      error: { code: -1 },
    });
    expect(parseJsonRpcReply(reply('application/json', '<html>'), 1)).toBeUndefined();
    expect(parseJsonRpcReply(reply('text/event-stream', 'data: nope\n\n'), 1)).toBeUndefined();
  });
});
