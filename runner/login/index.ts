// Login drivers: how the harness gets past the authorization step of a real server
// (DESIGN.md §Getting past the login step).
//
// - auto: the authorization endpoint redirects straight back (test-mode servers, --auto-approve).
// - form: a JSON script of HTTP form steps with a cookie jar; no browser.
// - browser: the same script driven by playwright-core and the system Chromium.
// - manual: prints the URL and waits for a person's browser on a loopback callback (RFC 8252).
//
// Every driver returns the callback URL (redirect_uri + code/state/iss, or error): validating it
// (state, iss) is oauth.ts's job, not the driver's.

import { autoLogin } from './auto.ts';
import { browserLogin } from './browser.ts';
import { formLogin } from './form.ts';
import { manualLogin } from './manual.ts';
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
    case 'browser': {
      const script = requireScript(config);
      return { name: 'browser', login: (ctx) => browserLogin(ctx, script, config.chromiumPath) };
    }
    case 'manual': {
      // One person, one browser, one loopback listener on the redirect URI's port: sign-ins take
      // turns (checks running concurrently would otherwise race for the port: EADDRINUSE).
      let queue: Promise<unknown> = Promise.resolve();
      return {
        name: 'manual',
        login: (ctx) => {
          const turn = queue.then(() => manualLogin(ctx));
          queue = turn.catch(() => undefined);
          return turn;
        },
      };
    }
  }
}

function requireScript(config: LoginDriverConfig): FormScript {
  if (!config.script) {
    throw new LoginError(`--login ${config.driver} needs a login script (a JSON file of { "steps": [...] })`);
  }
  return FormScriptSchema.parse(config.script);
}
