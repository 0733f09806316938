// A real MCP server from the official v2 SDK: createMcpHandler (2026-07-28, with the stateless
// 2025 fallback) behind node:http on an ephemeral loopback port, with one tool, one resource and
// one prompt. mcp.ts is tested against it so its wire shapes are what the SDK accepts.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';

export interface SdkServer {
  url: string;
  close(): Promise<void>;
}

export async function startSdkServer(): Promise<SdkServer> {
  const handler = createMcpHandler(() => {
    const server = new McpServer({ name: 'sdk-fixture', version: '1.0.0' });
    server.registerTool(
      'echo',
      { description: 'Echoes its text', inputSchema: z.object({ text: z.string() }) },
      async ({ text }) => ({ content: [{ type: 'text', text }] }),
    );
    server.registerResource('note', 'note://one', { description: 'a note' }, async (uri) => ({
      contents: [{ uri: uri.href, text: 'hello' }],
    }));
    server.registerPrompt('greet', { description: 'a greeting' }, async () => ({
      messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }],
    }));
    return server;
  });
  const node = toNodeHandler(handler);
  const http = createServer((req, res) => {
    void node(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    async close() {
      await handler.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
