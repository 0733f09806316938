// The OAuth 2.1 authorization server half of the reference server.
// (Scaffold: the endpoints land with issue #2.)
import type { ServerContext } from '../context.ts';
import type { ServerHalf } from '../server.ts';

export async function createAuthorizationServer(_ctx: ServerContext): Promise<ServerHalf> {
  return { handle: async () => false };
}
