// The MCP resource server half of the reference server.
// (Scaffold: the endpoint lands with issue #3.)
import type { ServerContext } from '../context.ts';
import type { ServerHalf } from '../server.ts';

export async function createResourceServer(_ctx: ServerContext): Promise<ServerHalf> {
  return { handle: async () => false };
}
