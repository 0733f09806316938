// Finding a client by its client_id: a dynamically registered one from the store, or a Client ID
// Metadata Document fetched from the URL the client_id is.

import type { ServerContext } from '../context.ts';
import type { AuthorizationServerStore, ClientRecord } from '../store.ts';
import { CimdError, type CimdResolver, isCimdClientId } from './cimd.ts';

export type ClientLookup = { client: ClientRecord } | { problem: string };

export async function findClient(
  ctx: ServerContext,
  store: AuthorizationServerStore,
  cimd: CimdResolver,
  clientId: string,
): Promise<ClientLookup> {
  // Fault: URL client_ids are not fetched; they are looked up like any other (and so unknown).
  if (isCimdClientId(ctx, clientId) && !ctx.fault('as-cimd-disabled')) {
    try {
      return { client: await cimd.resolve(clientId) };
    } catch (err) {
      if (err instanceof CimdError) return { problem: err.message };
      throw err;
    }
  }
  const client = await store.getClient(clientId);
  return client ? { client } : { problem: 'unknown client_id' };
}
