// The check registry: every check of every suite, in suite order. `list`, `run` and the fault
// catalogue (`serve --list-faults`) all read it from here.

import type { Check } from '../runner/check.ts';
import { checks as asAuthorize } from './as-authorize.ts';
import { checks as asCimd } from './as-cimd.ts';
import { checks as asDcr } from './as-dcr.ts';
import { checks as asIss } from './as-iss.ts';
import { checks as asMetadata } from './as-metadata.ts';
import { checks as asPkce } from './as-pkce.ts';
import { checks as asRedirect } from './as-redirect.ts';
import { checks as asRefresh } from './as-refresh.ts';
import { checks as asRevocation } from './as-revocation.ts';
import { checks as asSecurity } from './as-security.ts';
import { checks as asToken } from './as-token.ts';
import { checks as rsAudience } from './rs-audience.ts';
import { checks as rsChallenge } from './rs-challenge.ts';
import { checks as rsCors } from './rs-cors.ts';
import { checks as rsPrm } from './rs-prm.ts';
import { checks as rsPublicMethods } from './rs-public-methods.ts';
import { checks as rsScope } from './rs-scope.ts';
import { checks as rsToken } from './rs-token.ts';
import { checks as rsTransport } from './rs-transport.ts';

// Resource server first (discovery, challenges, tokens, audience, scope, transport, public
// methods, browsers), then the authorization server (metadata, the authorization endpoint and its
// redirects, PKCE, iss, the token endpoint, refresh, revocation, security probes, registration,
// client ID metadata documents): the order a reader meets them in the specs.
export const CHECKS: readonly Check[] = [
  ...rsPrm,
  ...rsChallenge,
  ...rsToken,
  ...rsAudience,
  ...rsScope,
  ...rsTransport,
  ...rsPublicMethods,
  ...rsCors,
  ...asMetadata,
  ...asAuthorize,
  ...asRedirect,
  ...asPkce,
  ...asIss,
  ...asToken,
  ...asRefresh,
  ...asRevocation,
  ...asSecurity,
  ...asDcr,
  ...asCimd,
];

// A duplicated ID would make --only/--skip and the reports ambiguous: refuse at load time.
const seen = new Set<string>();
for (const check of CHECKS) {
  if (seen.has(check.id)) throw new Error(`duplicate check id ${check.id} in suites/`);
  seen.add(check.id);
}
