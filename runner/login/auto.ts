// The `auto` login driver: for authorization servers that approve without a person (test mode,
// the reference server's --auto-approve). One GET, redirects never followed: the Location of a
// 302/303 must point at the redirect URI (OAuth 2.1 §4.1.2: the response is a redirect to it).

import type { LoginContext } from './shared.ts';
import { isRedirectTo, LoginError, rateLimitMessage } from './shared.ts';

export async function autoLogin(ctx: LoginContext): Promise<URL> {
  const response = await ctx.http.request(ctx.authorizationUrl, {
    method: 'GET',
    timeoutMs: ctx.timeoutMs,
    label: 'authorization request (auto login)',
  });
  const location = response.headers.get('location');
  if ((response.status === 302 || response.status === 303) && location !== null) {
    let target: URL;
    try {
      target = new URL(location, ctx.authorizationUrl);
    } catch {
      throw new LoginError(`the authorization endpoint redirected to an invalid Location: ${location}`);
    }
    if (isRedirectTo(target, ctx.redirectUri)) {
      if (target.searchParams.get('code'))
        ctx.onSecret?.(target.searchParams.get('code')!, 'authorization_code');
      return target;
    }
    throw new LoginError(
      `the authorization endpoint did not auto-approve: it redirected to ${target.origin}${target.pathname} (a login page?), not to the redirect URI; use --login form, browser or manual`,
    );
  }
  const limited = rateLimitMessage(response, 'the authorization endpoint');
  if (limited !== undefined) throw new LoginError(limited);
  const type = response.headers.get('content-type') ?? 'no content type';
  throw new LoginError(
    `the authorization endpoint did not auto-approve: it answered ${response.status} (${type})${
      response.status === 200 ? ', probably a login or consent page' : ''
    } instead of a 302/303 to the redirect URI; use --login form, browser or manual`,
  );
}
