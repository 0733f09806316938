// What every endpoint of the authorization server works with.
import type { ServerContext } from '../context.ts';
import type { AuthorizationServerStore } from '../store.ts';
import type { CimdResolver } from './cimd.ts';
import type { SignInSessions } from './sign-in-sessions.ts';

export interface AsDeps {
  ctx: ServerContext;
  store: AuthorizationServerStore;
  cimd: CimdResolver;
  sessions: SignInSessions;
}
