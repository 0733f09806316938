// Login drivers: how the harness gets past the authorization step of a real server
// (DESIGN.md §Getting past the login step).
//
// - auto: the authorization endpoint redirects straight back (test-mode servers, --auto-approve).
// - form: a JSON script of HTTP form steps with a cookie jar; no browser.
// - browser: the same script driven by playwright-core and the system Chromium.
// - manual: a person signs in once in their own browser; a loopback listener (RFC 8252) takes
//   every callback and sends that tab on to the next authorization of the run.
//
// A driver may keep something for the whole run (the manual driver's listener, the browser
// driver's Chromium and its one profile): the run closes it at the end (`close`).
//
// Every driver returns the callback URL (redirect_uri + code/state/iss, or error): validating it
// (state, iss) is oauth.ts's job, not the driver's.

import { autoLogin } from './auto.ts';
import { BrowserLoginSession } from './browser.ts';
import { formLogin } from './form.ts';
import { ManualLoginSession } from './manual.ts';
import {
  type FormScript,
  FormScriptSchema,
  type LoginContext,
  type LoginDriverName,
  LoginError,
} from './shared.ts';

export * from './shared.ts';

export interface LoginDriver {
  readonly name: LoginDriverName;
  /** Resolves with the callback URL (redirect_uri + code/state/iss, or an error response). */
  login(ctx: LoginContext): Promise<URL>;
  /** Ends what the driver keeps for the run (a listener, a browser) and every wait; idempotent. */
  close?(): Promise<void>;
  /**
   * Authorizations that needed a person (manual: ManualLoginSession.humanActions says how they are
   * told apart). Absent: the driver never involves a person (0).
   */
  readonly humanActions?: number;
}

export interface LoginDriverConfig {
  driver: LoginDriverName;
  script?: FormScript;
  chromiumPath?: string;
}

export function createLoginDriver(config: LoginDriverConfig): LoginDriver {
  switch (config.driver) {
    case 'auto':
      return { name: 'auto', login: autoLogin };
    case 'form': {
      const script = requireScript(config);
      return { name: 'form', login: (ctx) => formLogin(ctx, script) };
    }
    case 'browser':
      return new BrowserLoginSession(requireScript(config), config.chromiumPath);
    case 'manual':
      return new ManualLoginSession();
  }
}

function requireScript(config: LoginDriverConfig): FormScript {
  if (!config.script) {
    throw new LoginError(`--login ${config.driver} needs a login script (a JSON file of { "steps": [...] })`);
  }
  return FormScriptSchema.parse(config.script);
}
