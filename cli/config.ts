// Every option of every command, in one table (OPTIONS). The machinery in options.ts turns it into
// the command-line parsing, the help text, the config file's schema (`mcp-auth-conformance.config.json`,
// or --config FILE; schemas/config.schema.json for editors) and the error messages.
//
// To add an option: add one entry to OPTIONS (flag, key, commands, kind, schema, help, group),
// then read `config.<key>` where it is used. `npm run schemas` regenerates the JSON Schema.
//
// Rules (issue #4 §Getting tokens):
// - Flags override the file; the file overrides the defaults.
// - Secrets never come through argv (it leaks into process lists and CI logs) nor through the
//   config file (it gets committed): only the NAME of an environment variable (--token-env,
//   --client-secret-env) or a FILE (--token-file, --mint-key) is an option. The schema has no
//   field that could hold a secret, and rejects unknown keys, so `"token": "..."` in the file is an
//   error.
// - A validation problem is a sentence that names the option as the user gave it and says what
//   to do (exit code 2).

import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { z } from 'zod';
import { FAULTS } from '../reference-server/faults.ts';
import { VARIANTS } from '../reference-server/variants.ts';
import { PublicUrlError, publicOriginsOf } from '../reference-server/server.ts';
import { PUBLIC_METHOD_CANDIDATES } from '../runner/mcp.ts';
import { LATEST_REVISION, REVISIONS } from '../runner/revisions.ts';
import {
  type Command,
  describeIssues,
  helpText,
  nameOf,
  type OptionSpec,
  option,
  parseFlags,
  schemaShape,
  type Source,
  splitList,
  UsageError,
} from './options.ts';

export { UsageError };

export const CONFIG_FILE_NAME = 'mcp-auth-conformance.config.json';
/** Report formats; report.json is always written, the others are rendered from it. */
export const REPORT_FORMATS = ['json', 'md', 'junit', 'html', 'sarif', 'har'] as const;
export const FAIL_ON = ['must', 'should', 'never'] as const;
export const LOGIN_DRIVERS = ['auto', 'form', 'browser', 'manual'] as const;

/**
 * The embedded reference server's authorization codes live 2 s (instead of its usual 60 s) and
 * AS-AUTHZ-12 waits 2.5 s before redeeming one, so the full embedded run proves that check (and its
 * fault as-code-long-lived) in 2.5 s of one worker instead of a minute. The other checks redeem
 * their codes within milliseconds of getting them; 2 s (not 1 s) leaves room for a loaded CI
 * machine running many test workers at once.
 */
export const EMBEDDED_CODE_TTL_SECONDS = 2;
export const EMBEDDED_CODE_LIFETIME_WAIT_SECONDS = 2.5;

/** Methods `--public-methods` may name (issue #5 RS-PUB): every anonymous probe except tools/call. */
const DECLARABLE_PUBLIC_METHODS = PUBLIC_METHOD_CANDIDATES.filter((m) => m !== 'tools/call') as [
  string,
  ...string[],
];
const FAULT_NAMES = new Set(FAULTS.map((f) => f.name));
const VARIANT_NAMES = new Set(VARIANTS.map((v) => v.name));
/** `Name: value` (RFC 9110 §5.1 field name: a token; §5.5 field value: visible characters and spaces). */
const HEADER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[ \t]*[\x20-\x7E\t]*$/;

const idPrefix = z
  .string()
  .regex(/^[A-Za-z]+(-[A-Za-z0-9]+)*$/, 'is not a check ID prefix like RS, RS-PRM or AS-PKCE-01')
  .transform((s) => s.toUpperCase());
/** RFC 6749 §3.3 scope-token: 1*( %x21 / %x23-5B / %x5D-7E ). */
const scopeToken = z
  .string()
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'is not an OAuth scope token (RFC 6749 §3.3)');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not an environment variable name');
/** A host name or an IP address (IPv6 with or without brackets), no scheme, port or path. */
const hostName = z.string().refine((s) => {
  const host = s.includes(':') && !s.startsWith('[') ? `[${s}]` : s;
  if (!URL.canParse(`http://${host}/`)) return false;
  const url = new URL(`http://${host}/`);
  return url.host === url.hostname && url.hostname !== '' && /^[^/?#@\s]+$/.test(s);
}, 'is not a host name or IP address (no scheme, port or path: --allow-host 10.0.0.5)');
const httpUrl = z
  .string()
  .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), 'must be an absolute http(s) URL');
const file = z.string().min(1);
/** A message for a value of the wrong type only (range checks keep their own messages). */
const typeError = (message: string) => (issue: { code?: string }) =>
  issue.code === 'invalid_type' ? message : undefined;
const seconds = z.number({ error: typeError('must be a number of seconds (10, 2.5, 500ms)') });
const port = z
  .int({ error: typeError('must be a port number from 0 to 65535') })
  .min(0)
  .max(65535);

/** The one table. Order = order in help; `group` = its section. */
export const OPTIONS = {
  // --- run: what to check
  target: option({
    flag: 'target',
    commands: ['run'],
    kind: 'string',
    value: 'URL',
    schema: httpUrl.optional(),
    help: 'MCP endpoint to check. Without it the reference server is started in process (auto-approve; its signing key lets the runner forge tokens) and checked.',
    group: 'What to check',
  }),
  faults: option({
    flag: 'fault',
    commands: ['run', 'serve'],
    kind: 'list',
    value: 'NAME',
    schema: z
      .array(z.string())
      .default([])
      .superRefine((names, ctx) => {
        const unknown = names.filter((n) => !FAULT_NAMES.has(n));
        if (unknown.length > 0) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown fault${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (list them with "mcp-auth-conformance serve --list-faults")`,
          });
        }
      }),
    help: 'Switch on a named fault of the reference server (repeatable; run: only without --target). List them with "mcp-auth-conformance serve --list-faults".',
    group: 'What to check',
  }),
  variants: option({
    flag: 'variant',
    commands: ['run', 'serve'],
    kind: 'list',
    value: 'NAME',
    schema: z
      .array(z.string())
      .default([])
      .superRefine((names, ctx) => {
        const unknown = names.filter((n) => !VARIANT_NAMES.has(n));
        if (unknown.length > 0) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown variant${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (list them with "mcp-auth-conformance serve --list-variants")`,
          });
        }
      }),
    help: 'Switch on a variant of the reference server: a conformant behaviour unlike its defaults (repeatable; run: only without --target). List them with "mcp-auth-conformance serve --list-variants".',
    group: 'What to check',
  }),
  spec: option({
    flag: 'spec',
    commands: ['run', 'list'],
    kind: 'string',
    value: 'REV',
    schema: z.enum(['auto', ...REVISIONS]).default('auto'),
    help: `MCP specification revision: auto | ${REVISIONS.join(' | ')}. auto (the default): against a target, the newest revision the server speaks (asked with server/discover, else initialize); the embedded reference server is checked in the newest (${LATEST_REVISION}).`,
    group: 'What to check',
  }),
  only: option({
    flag: 'only',
    commands: ['run'],
    kind: 'list',
    value: 'P,Q',
    schema: z.array(idPrefix).default([]),
    help: 'Run only checks whose ID starts with one of these prefixes (RS, RS-PRM, AS-PKCE-01).',
    group: 'What to check',
  }),
  skip: option({
    flag: 'skip',
    commands: ['run'],
    kind: 'list',
    value: 'P,Q',
    schema: z.array(idPrefix).default([]),
    help: 'Leave out checks whose ID starts with one of these prefixes.',
    group: 'What to check',
  }),
  strict: option({
    flag: 'strict',
    commands: ['run'],
    kind: 'boolean',
    schema: z.boolean().default(false),
    help: 'A violated SHOULD fails (instead of warning).',
    group: 'What to check',
  }),
  config: option({
    flag: 'config',
    commands: ['run'],
    kind: 'string',
    value: 'FILE',
    schema: file.optional(),
    help: `Options file (JSON; schema: schemas/config.schema.json). Default: ./${CONFIG_FILE_NAME} if present. Flags override it.`,
    group: 'What to check',
    cliOnly: true,
  }),

  // --- run: verdict and reports
  failOn: option({
    flag: 'fail-on',
    commands: ['run'],
    kind: 'string',
    value: 'LEVEL',
    schema: z.enum(FAIL_ON).default('must'),
    help: 'Which results fail the run: must (a fail), should (a fail or a warn), never (only a run that could not happen).',
    group: 'Verdict and reports',
  }),
  baseline: option({
    flag: 'baseline',
    commands: ['run'],
    kind: 'string',
    value: 'FILE',
    schema: file.optional(),
    help: 'Expected failures (JSON or YAML, {"expected-failures": [{"id", "status"?, "reason"}]}): listed ones do not fail the run; new failures and stale entries do.',
    group: 'Verdict and reports',
  }),
  out: option({
    flag: 'out',
    commands: ['run'],
    kind: 'string',
    value: 'DIR',
    schema: z.string().min(1).default('./conformance-report'),
    help: 'Directory the reports are written to (created; checked before the first request).',
    group: 'Verdict and reports',
  }),
  format: option({
    flag: 'format',
    commands: ['run'],
    kind: 'list',
    value: 'F,G',
    schema: z
      .array(z.enum(REPORT_FORMATS, { error: () => `must be one of ${REPORT_FORMATS.join(', ')}` }))
      .default([...REPORT_FORMATS]),
    help: 'Report formats: json (report.json), md (summary.md), junit (junit.xml), html (report.html), sarif (report.sarif), har (exchanges.har). report.json is always written.',
    group: 'Verdict and reports',
  }),
  sarifArtifact: option({
    flag: 'sarif-artifact',
    commands: ['run'],
    kind: 'string',
    value: 'PATH',
    schema: z
      .string()
      .min(1)
      .refine(
        (s) => !/^[a-z][a-z0-9+.-]*:/i.test(s) && !s.startsWith('/'),
        'must be a path relative to the repository root',
      )
      .optional(),
    help: `Repository-relative file the findings in report.sarif point at (code scanning needs a file). Default: the config file, else ${CONFIG_FILE_NAME}.`,
    group: 'Verdict and reports',
  }),

  // --- run: getting tokens
  login: option({
    flag: 'login',
    commands: ['run'],
    kind: 'string',
    value: 'DRIVER',
    schema: z.enum(LOGIN_DRIVERS).default('auto'),
    help: 'How the authorization step is passed: auto (redirects straight back), form (a script of form steps), browser (the script in headless Chromium), manual (prints the URL, waits on a loopback callback).',
    group: 'Getting tokens',
  }),
  loginScript: option({
    flag: 'login-script',
    commands: ['run'],
    kind: 'string',
    value: 'FILE',
    schema: file.optional(),
    help: 'JSON form steps for --login form or browser.',
    group: 'Getting tokens',
  }),
  chromiumPath: option({
    flag: 'chromium-path',
    commands: ['run'],
    kind: 'string',
    value: 'FILE',
    schema: file.optional(),
    help: 'Chromium executable for --login browser (default /usr/bin/chromium).',
    group: 'Getting tokens',
  }),
  allowOrigins: option({
    flag: 'allow-origin',
    commands: ['run'],
    kind: 'list',
    value: 'URL',
    schema: z.array(httpUrl).default([]),
    help: 'Extra origin the login step may visit, e.g. an identity provider on another host (repeatable).',
    group: 'Getting tokens',
  }),
  otherResource: option({
    flag: 'other-resource',
    commands: ['run'],
    kind: 'string',
    value: 'URL',
    schema: httpUrl.optional(),
    help: 'A resource (RFC 8707) the authorization server also issues tokens for: RS-AUD-01 asks it for a token for this resource and presents it to the target (default: synthetic resources on the authorization server host and beside the endpoint).',
    group: 'What the target does on purpose',
  }),
  foreignTokenEnv: option({
    flag: 'foreign-token-env',
    commands: ['run'],
    kind: 'string',
    value: 'NAME',
    schema: envName.optional(),
    help: 'Environment variable holding an access token the same authorization server issued for another service: RS-AUD-01 presents it to the target and expects 401.',
    group: 'Getting tokens',
  }),
  allowHosts: option({
    flag: 'allow-host',
    commands: ['run'],
    kind: 'list',
    value: 'HOST',
    schema: z.array(hostName).default([]),
    help: 'A host (name or IP address) the runner may contact at a loopback, private or unique-local address although the target is not in that class (repeatable; the egress policy: README "Security"). Link-local and cloud metadata addresses are never contacted.',
    group: 'Network',
  }),
  ca: option({
    flag: 'ca',
    commands: ['run'],
    kind: 'string',
    value: 'FILE',
    schema: file.optional(),
    help: 'PEM file of a private certificate authority to trust for https, in addition to the usual roots (a test or corporate CA). Never a way to turn verification off.',
    group: 'Network',
  }),
  headers: option({
    flag: 'header',
    commands: ['run'],
    kind: 'list',
    value: "'Name: value'",
    schema: z
      .array(z.string().regex(HEADER_LINE, 'is not "Name: value" (a header field name, a colon, a value)'))
      .default([]),
    help: 'Extra request header for the target\'s origin (repeatable; a gateway\'s API key, a tenant). A value "$env:NAME" is read from that environment variable; every value is redacted from the reports.',
    group: 'Network',
  }),
  cimdUrlBase: option({
    flag: 'cimd-url-base',
    commands: ['run'],
    kind: 'string',
    value: 'URL',
    schema: httpUrl.optional(),
    help: 'URL at which the --cimd-out folder is served where the authorization server can fetch it: client metadata documents are written there and named by their URL under this base (instead of a loopback listener of the harness, which a deployed AS cannot reach).',
    group: 'Network',
  }),
  cimdOut: option({
    flag: 'cimd-out',
    commands: ['run'],
    kind: 'string',
    value: 'DIR',
    schema: file.optional(),
    help: 'Folder the client metadata documents are written to (with --cimd-url-base).',
    group: 'Network',
  }),
  tokenEnv: option({
    flag: 'token-env',
    commands: ['run'],
    kind: 'string',
    value: 'NAME',
    schema: envName.optional(),
    help: 'Environment variable holding an access token for the target.',
    group: 'Getting tokens',
  }),
  tokenFile: option({
    flag: 'token-file',
    commands: ['run'],
    kind: 'string',
    value: 'FILE',
    schema: file.optional(),
    help: 'File holding an access token (a mounted CI secret); instead of --token-env.',
    group: 'Getting tokens',
  }),
  tokenBEnv: option({
    flag: 'token-b-env',
    commands: ['run'],
    kind: 'string',
    value: 'NAME',
    schema: envName.optional(),
    help: "Environment variable holding a second user's access token (RS-SESS-02/04: a session or state of one user must not serve another).",
    group: 'Getting tokens',
  }),
  tokenBFile: option({
    flag: 'token-b-file',
    commands: ['run'],
    kind: 'string',
    value: 'FILE',
    schema: file.optional(),
    help: "File holding a second user's access token; instead of --token-b-env.",
    group: 'Getting tokens',
  }),
  clientId: option({
    flag: 'client-id',
    commands: ['run'],
    kind: 'string',
    value: 'ID',
    schema: z.string().min(1).optional(),
    help: 'A client already registered at the authorization server.',
    group: 'Getting tokens',
  }),
  clientSecretEnv: option({
    flag: 'client-secret-env',
    commands: ['run'],
    kind: 'string',
    value: 'NAME',
    schema: envName.optional(),
    help: "Environment variable holding that client's secret (confidential client).",
    group: 'Getting tokens',
  }),
  clientSecretFile: option({
    flag: 'client-secret-file',
    commands: ['run'],
    kind: 'string',
    value: 'FILE',
    schema: file.optional(),
    help: "File holding that client's secret; instead of --client-secret-env.",
    group: 'Getting tokens',
  }),
  mintKey: option({
    flag: 'mint-key',
    commands: ['run'],
    kind: 'string',
    value: 'FILE',
    schema: file.optional(),
    help: 'File with a private JWK the target trusts, to forge tokens for the sharpest expiry, audience, issuer and signature checks (with --mint-issuer).',
    group: 'Getting tokens',
  }),
  mintIssuer: option({
    flag: 'mint-issuer',
    commands: ['run'],
    kind: 'string',
    value: 'URL',
    schema: httpUrl.optional(),
    help: 'Issuer to put in forged tokens (with --mint-key).',
    group: 'Getting tokens',
  }),

  // --- what the target does on purpose (run) / what the reference server does (serve)
  publicMethods: option({
    flag: 'public-methods',
    aliases: ['expect-public'],
    commands: ['run', 'serve'],
    kind: 'list',
    value: 'M,N',
    schema: z
      .array(
        z.enum(DECLARABLE_PUBLIC_METHODS, {
          error: () =>
            `must be among ${DECLARABLE_PUBLIC_METHODS.join(', ')} (tools/call can never be public: it has side effects)`,
        }),
      )
      .default([]),
    help: 'JSON-RPC methods answered without a token on purpose. run: the RS-PUB checks report them without warning (was --expect-public). serve: the reference server answers them anonymously.',
    group: 'What the target does on purpose',
  }),
  privilegedTool: option({
    flag: 'privileged-tool',
    commands: ['run'],
    kind: 'string',
    value: 'NAME',
    schema: z.string().min(1).optional(),
    help: 'A tool that needs more scope than the default token holds: the RS-403 checks call it to observe step-up (default against the embedded server: write_note).',
    group: 'What the target does on purpose',
  }),
  scope: option({
    flag: 'scope',
    commands: ['run'],
    kind: 'string',
    value: "'A B'",
    schema: z
      .string()
      .regex(
        /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/,
        'is not a space-separated list of OAuth scope tokens (RFC 6749 §3.3)',
      )
      .optional(),
    help: "The scope every authorization requests. Default: the challenge's scope, else the protected-resource metadata's scopes_supported, else the authorization server's (minus openid and offline_access), else none; the first one the authorization server grants.",
    group: 'What the target does on purpose',
  }),
  scopeImplies: option({
    flag: 'scope-implies',
    commands: ['run'],
    kind: 'list',
    value: 'BROAD=NARROW[,NARROW]',
    schema: z
      .record(scopeToken, z.array(scopeToken).min(1, 'must name at least one implied scope'), {
        error: (issue) =>
          issue.code === 'invalid_key'
            ? `"${String(issue.input)}" is not an OAuth scope token (RFC 6749 §3.3)`
            : undefined,
      })
      .default({}),
    fromFlag: scopeImpliesFromFlags,
    help: 'The target\'s scope hierarchy (repeatable): a token of BROAD may do what NARROW allows; RS-403-05 checks it (config file: {"files:*": ["files:read"]}; default against the embedded server: its own, mcp:admin=mcp:write).',
    group: 'What the target does on purpose',
  }),
  stateTool: option({
    flag: 'state-tool',
    commands: ['run'],
    kind: 'string',
    value: 'NAME',
    schema: z.string().min(1).optional(),
    help: 'A tool whose first call answers input_required with a requestState (MCP 2026-07-28 multi-round-trip): RS-SESS-04 replays that state with another user, without a token and tampered (default against the embedded server: read_my_notes).',
    group: 'What the target does on purpose',
  }),
  allowRaces: option({
    flag: 'allow-races',
    commands: ['run'],
    kind: 'boolean',
    schema: z.boolean().default(false),
    help: 'Run the AS-RACE probes (20 parallel token requests) against a non-loopback target too; loopback targets always get them.',
    group: 'What the target does on purpose',
  }),
  codeLifetimeWait: option({
    flag: 'code-lifetime-wait',
    commands: ['run'],
    kind: 'seconds',
    value: 'S',
    schema: seconds.min(0).max(600).optional(),
    help: `AS-AUTHZ-12: redeem a code S seconds after issue, the longest code lifetime you accept (max 600, the 10 minutes OAuth 2.1 §4.1.2 RECOMMENDS); still redeemable warns. Absent or 0 against a target: the check skips. Against the embedded server: ${EMBEDDED_CODE_LIFETIME_WAIT_SECONDS} (its codes then live ${EMBEDDED_CODE_TTL_SECONDS} s).`,
    group: 'What the target does on purpose',
  }),

  // --- run: time
  timeout: option({
    flag: 'timeout',
    commands: ['run'],
    kind: 'seconds',
    value: 'S',
    schema: seconds.positive().max(600).default(10),
    help: 'Time bound of one HTTP request, in seconds; a check gets 3x this, a login step 10x (30x for manual and browser).',
    group: 'Time',
  }),
  runTimeout: option({
    flag: 'run-timeout',
    commands: ['run'],
    kind: 'seconds',
    value: 'S',
    schema: seconds.positive().max(86_400).default(900),
    help: 'Time bound of the whole run, in seconds.',
    group: 'Time',
  }),
  concurrency: option({
    flag: 'concurrency',
    commands: ['run'],
    kind: 'number',
    value: 'N',
    schema: z
      .int({ error: typeError('must be a whole number') })
      .min(1)
      .max(32)
      .default(4),
    help: 'Checks run at the same time.',
    group: 'Time',
  }),

  // --- list
  json: option({
    flag: 'json',
    commands: ['list'],
    kind: 'boolean',
    schema: z.boolean().optional(),
    help: 'Print the checks with all their metadata as JSON.',
    group: 'Output',
    cliOnly: true,
  }),

  // --- serve: the reference server (keys are ReferenceServerOptions fields)
  port: option({
    flag: 'port',
    commands: ['serve'],
    kind: 'number',
    value: 'N',
    schema: port.optional(),
    help: 'Port of the MCP origin (default: an ephemeral port).',
    group: 'Reference server',
  }),
  host: option({
    flag: 'host',
    commands: ['serve'],
    kind: 'string',
    value: 'H',
    schema: z.string().min(1).optional(),
    help: 'Address to bind (default 127.0.0.1).',
    group: 'Reference server',
  }),
  autoApprove: option({
    flag: 'auto-approve',
    commands: ['serve'],
    kind: 'boolean',
    schema: z.boolean().optional(),
    help: 'Skip the consent page: authorization redirects straight back.',
    group: 'Reference server',
  }),
  skipConsent: option({
    flag: 'skip-consent',
    commands: ['serve'],
    kind: 'boolean',
    schema: z.boolean().optional(),
    help: 'A signed-in person is never asked to consent (trusted clients); the sign-in page still shows once per sign-in session.',
    group: 'Reference server',
  }),
  listFaults: option({
    flag: 'list-faults',
    commands: ['serve'],
    kind: 'boolean',
    schema: z.boolean().optional(),
    help: 'Print the fault catalogue as JSON (each fault with the checks it turns red) and exit.',
    group: 'Reference server',
    cliOnly: true,
  }),
  listVariants: option({
    flag: 'list-variants',
    commands: ['serve'],
    kind: 'boolean',
    schema: z.boolean().optional(),
    help: 'Print the variant catalogue as JSON (each conformant behaviour with the sentences that allow it) and exit.',
    group: 'Reference server',
    cliOnly: true,
  }),
  publicUrl: option({
    flag: 'public-url',
    commands: ['serve'],
    kind: 'string',
    value: 'URL',
    schema: httpUrl.optional(),
    help: 'The origin clients reach the server at (https://mcp.example.com), when it runs behind a TLS-terminating proxy: issuer, endpoints, resource and protected-resource metadata URL are named with it.',
    group: 'Reference server',
  }),
  asPublicUrl: option({
    flag: 'as-public-url',
    commands: ['serve'],
    kind: 'string',
    value: 'URL',
    schema: httpUrl.optional(),
    help: 'With --split: the origin clients reach the authorization server at.',
    group: 'Reference server',
  }),
  split: option({
    flag: 'split',
    commands: ['serve'],
    kind: 'boolean',
    schema: z.boolean().optional(),
    help: 'Serve the authorization server on a second port (a second origin).',
    group: 'Reference server',
  }),
  asPort: option({
    flag: 'as-port',
    commands: ['serve'],
    kind: 'number',
    value: 'N',
    schema: port.optional(),
    help: 'Port of the authorization server with --split.',
    group: 'Reference server',
  }),
  lenientResource: option({
    flag: 'lenient-resource',
    commands: ['serve'],
    kind: 'boolean',
    schema: z.boolean().optional(),
    help: 'A missing RFC 8707 resource binds the one known resource.',
    group: 'Reference server',
  }),
  allowLoopbackCimd: option({
    flag: 'allow-loopback-cimd',
    commands: ['serve'],
    kind: 'boolean',
    schema: z.boolean().optional(),
    help: 'Let Client ID Metadata Document fetches reach loopback addresses.',
    group: 'Reference server',
  }),
  trustIssuer: option({
    flag: 'trust-issuer',
    commands: ['serve'],
    kind: 'string',
    value: 'URL',
    schema: httpUrl.optional(),
    help: 'Trust this external authorization server instead of the bundled one.',
    group: 'Reference server',
  }),
  allowedOrigins: option({
    flag: 'accept-origin',
    aliases: ['allowed-origins'],
    commands: ['serve'],
    kind: 'list',
    value: 'URL',
    schema: z.array(z.string().min(1)).optional(),
    help: 'Extra Origin value the MCP endpoint accepts (repeatable; its own origin always is).',
    group: 'Reference server',
  }),
  // --- every command (last in help)
  help: option({
    flag: 'help',
    short: 'h',
    commands: ['run', 'list', 'serve'],
    kind: 'boolean',
    schema: z.boolean().optional(),
    help: 'this text',
    group: 'Help',
    cliOnly: true,
  }),
} as const satisfies Record<string, OptionSpec>;

type Options = typeof OPTIONS;
/** Keys of the config file / API options of a command. */
type KeysOf<C extends Command> = {
  [K in keyof Options]: Options[K] extends { cliOnly: true }
    ? never
    : C extends Options[K]['commands'][number]
      ? K
      : never;
}[keyof Options];
type ShapeOf<C extends Command> = { [K in KeysOf<C>]: Options[K]['schema'] };

/** The options of a run (config file, flags and the API's `run(options)`), in one zod schema. */
export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('JSON Schema of this file (for editors).'),
    ...(schemaShape(OPTIONS, 'run') as ShapeOf<'run'>),
  })
  .describe('Configuration of mcp-auth-conformance run');

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Options of `serve`: ReferenceServerOptions fields, validated. */
const ServeSchema = z.strictObject(schemaShape(OPTIONS, 'serve') as ShapeOf<'serve'>);
export type ServeConfig = Partial<z.output<typeof ServeSchema>>;

/** Flags that look like they carry a secret: refused with a pointer to the env/file form. */
const SECRET_FLAGS: Record<string, string> = {
  token: '--token-env NAME',
  'access-token': '--token-env NAME',
  'client-secret': '--client-secret-env NAME',
  secret: '--client-secret-env NAME',
  password: 'a --login-script FILE',
};

export interface LoadedConfig {
  config: Config;
  /** The config file read, if any. */
  configFile?: string;
  help: boolean;
  /** Names an option as the user gave it (`--fail-on`, `"failOn" in FILE`), for messages. */
  nameOf: (key: string) => string;
}

export function runHelp(): string {
  return helpText(
    OPTIONS,
    'run',
    'Usage: mcp-auth-conformance run [options]\n\nChecks an MCP server and its authorization server against the MCP authorization spec.',
    `Secrets are never accepted on the command line or in the config file: name an environment
variable or a file instead. The harness's redirect URI is http://127.0.0.1:<port>/callback.
Exit codes: 0 conformant, 1 a check failed (or the baseline disagrees), 2 bad usage or
configuration, 3 the run could not happen or complete.`,
  );
}

export function listHelp(): string {
  return helpText(
    OPTIONS,
    'list',
    'Usage: mcp-auth-conformance list [options]\n\nLists the checks, without touching the network (all revisions unless --spec).',
    '',
    false,
  );
}

export function serveHelp(): string {
  return helpText(
    OPTIONS,
    'serve',
    `Usage: mcp-auth-conformance serve [options]
       npm run reference-server -- [options]

Starts the reference MCP server (resource server at <base>/mcp) and its OAuth 2.1
authorization server, bound to 127.0.0.1 unless --host says otherwise, until Ctrl-C.`,
    '',
    false,
  );
}

/** Parses `run` flags, reads the config file, merges and validates. Throws UsageError. */
export function loadRunConfig(argv: readonly string[], cwd: string = process.cwd()): LoadedConfig {
  refuseSecretFlags(argv);
  const { values, typed } = parseFlags(OPTIONS, 'run', argv);
  const flagName = (key: string) => typed[key] ?? `--${OPTIONS[key as keyof Options]?.flag ?? key}`;
  if (values.help) return { config: ConfigSchema.parse({}), help: true, nameOf: flagName };

  const explicit = values.config as string | undefined;
  const configFile = explicit
    ? resolve(cwd, explicit)
    : existsSync(resolve(cwd, CONFIG_FILE_NAME))
      ? resolve(cwd, CONFIG_FILE_NAME)
      : undefined;
  const fromFile = configFile ? readConfigFile(configFile, explicit !== undefined) : {};
  const { help: _help, config: _config, ...fromFlags } = values;
  const shownFile = configFile ? relative(cwd, configFile) || configFile : '';
  const sourceOf = (key: string): Source | undefined =>
    key in fromFlags
      ? { kind: 'flag', typed: flagName(key) }
      : key in fromFile
        ? { kind: 'file', file: shownFile }
        : undefined;
  const parsed = ConfigSchema.safeParse({ ...fromFile, ...fromFlags });
  if (!parsed.success) {
    throw new UsageError(`invalid configuration:\n${describeIssues(OPTIONS, parsed.error, sourceOf, 'run')}`);
  }
  const nameOfKey = (key: string) => nameOf(OPTIONS, key, sourceOf(key));
  checkCombinations(parsed.data, nameOfKey);
  return {
    config: parsed.data,
    ...(configFile ? { configFile } : {}),
    help: false,
    nameOf: nameOfKey,
  };
}

/** Validates options given as an object (the API's `run(options)`); same rules as the config file. */
export function validateRunOptions(input: Record<string, unknown>): Config {
  const parsed = ConfigSchema.safeParse(input);
  const sourceOf = (): Source => ({ kind: 'file', file: 'the options' });
  if (!parsed.success) {
    throw new UsageError(`invalid options:\n${describeIssues(OPTIONS, parsed.error, sourceOf, 'run')}`);
  }
  checkCombinations(parsed.data, (key) => `"${key}"`);
  return parsed.data;
}

/** Parses `list` flags. */
export function loadListConfig(argv: readonly string[]): {
  help: boolean;
  json: boolean;
  spec?: Config['spec'];
} {
  const { values, typed } = parseFlags(OPTIONS, 'list', argv);
  const parsed = z.object({ spec: OPTIONS.spec.schema }).safeParse({ spec: values.spec });
  if (!parsed.success) {
    const sourceOf = (key: string): Source => ({ kind: 'flag', typed: typed[key] ?? `--${key}` });
    throw new UsageError(`invalid options:\n${describeIssues(OPTIONS, parsed.error, sourceOf, 'list')}`);
  }
  return {
    help: values.help === true,
    json: values.json === true,
    // Without --spec, list shows every revision's checks: the default is run's, not list's.
    ...(values.spec !== undefined ? { spec: parsed.data.spec } : {}),
  };
}

/** Parses `serve` flags into ReferenceServerOptions fields (absent flags stay absent). */
export function loadServeConfig(argv: readonly string[]): {
  help: boolean;
  listFaults: boolean;
  listVariants: boolean;
  options: ServeConfig;
} {
  const { values, typed } = parseFlags(OPTIONS, 'serve', argv);
  const { help, listFaults, listVariants, ...given } = values;
  const parsed = ServeSchema.safeParse(given);
  if (!parsed.success) {
    const sourceOf = (key: string): Source => ({ kind: 'flag', typed: typed[key] ?? `--${key}` });
    throw new UsageError(`invalid options:\n${describeIssues(OPTIONS, parsed.error, sourceOf, 'serve')}`);
  }
  const options = onlyGiven(parsed.data, given);
  try {
    publicOriginsOf(options); // a bad --public-url is bad usage (exit 2), not a failed start
  } catch (err) {
    if (err instanceof PublicUrlError) throw new UsageError(err.message);
    throw err;
  }
  return {
    help: help === true,
    listFaults: listFaults === true,
    listVariants: listVariants === true,
    options,
  };
}

function refuseSecretFlags(argv: readonly string[]): void {
  for (const arg of argv) {
    const name = /^--([a-z-]+)(=|$)/.exec(arg)?.[1];
    if (name && SECRET_FLAGS[name]) {
      throw new UsageError(
        `--${name} is not accepted: secrets never go on the command line (process lists and CI logs show it). Use ${SECRET_FLAGS[name]} instead.`,
      );
    }
  }
}

/** Absent flags of `list` and `serve` stay absent: those commands apply no defaults of their own. */
function onlyGiven<T extends object>(parsed: T, given: object): Partial<T> {
  return Object.fromEntries(Object.entries(parsed).filter(([key]) => key in given)) as Partial<T>;
}

/**
 * `--scope-implies BROAD=NARROW[,NARROW]` (repeatable) → `{ BROAD: [NARROW, …] }`. The scope
 * tokens themselves are checked by the schema; only the shape is checked here.
 */
function scopeImpliesFromFlags(texts: readonly string[], flag: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const value of texts) {
    const eq = value.indexOf('=');
    const broad = value.slice(0, eq).trim();
    const narrow = splitList([value.slice(eq + 1)]);
    if (eq <= 0 || broad === '' || narrow.length === 0) {
      throw new UsageError(
        `${flag} "${value}" is not BROAD=NARROW[,NARROW] (for example ${flag} files:*=files:read,files:write).`,
      );
    }
    out[broad] = [...new Set([...(out[broad] ?? []), ...narrow])];
  }
  return out;
}

function readConfigFile(file: string, explicit: boolean): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read the config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.${explicit ? ' Check the --config path.' : ''}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the config file ${file} is not valid JSON: ${(err as Error).message}.`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`the config file ${file} must hold a JSON object of options.`);
  }
  const secretKey = Object.keys(parsed).find(
    (k) => /secret|token$|password|^key$/i.test(k) && !k.endsWith('Env') && !k.endsWith('File'),
  );
  if (secretKey) {
    throw new UsageError(
      `the config file ${file} has "${secretKey}": secrets never go in a config file. Put the secret in an environment variable or a file and name it with tokenEnv / tokenFile / clientSecretEnv / clientSecretFile, or a key file with mintKey.`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** Rules that span several options; each names the options as the user gave them. */
function checkCombinations(config: Config, name: (key: keyof Config) => string): void {
  if (config.target && config.faults.length > 0) {
    throw new UsageError(
      `${name('faults')} switches faults of the embedded reference server, so it cannot be combined with ${name('target')}. Drop ${name('target')} to run against the embedded server.`,
    );
  }
  if (config.target && config.variants.length > 0) {
    throw new UsageError(
      `${name('variants')} switches variants of the embedded reference server, so it cannot be combined with ${name('target')}. Drop ${name('target')} to run against the embedded server.`,
    );
  }
  if ((config.cimdUrlBase === undefined) !== (config.cimdOut === undefined)) {
    throw new UsageError(
      `${name('cimdUrlBase')} and ${name('cimdOut')} go together: the harness writes its client metadata documents into the ${name('cimdOut')} folder, which you serve at the ${name('cimdUrlBase')} URL.`,
    );
  }
  if (config.cimdUrlBase && !config.target) {
    throw new UsageError(
      `${name('cimdUrlBase')} is for a ${name('target')} the harness does not run itself: the embedded reference server fetches the documents from the harness directly.`,
    );
  }
  for (const line of config.headers) headerOf(line);
  if (config.mintKey && !config.mintIssuer && config.target) {
    throw new UsageError(
      `${name('mintKey')} needs ${name('mintIssuer')}: the issuer the target trusts for that key.`,
    );
  }
  for (const key of ['clientSecretEnv', 'clientSecretFile'] as const) {
    if (config[key] && !config.clientId) {
      throw new UsageError(`${name(key)} needs ${name('clientId')}: the client whose secret it is.`);
    }
  }
  for (const [env, path] of [
    ['tokenEnv', 'tokenFile'],
    ['tokenBEnv', 'tokenBFile'],
    ['clientSecretEnv', 'clientSecretFile'],
  ] as const) {
    if (config[env] && config[path]) {
      throw new UsageError(`${name(env)} and ${name(path)} name the same secret twice: give one of them.`);
    }
  }
  if (config.loginScript && config.login !== 'form' && config.login !== 'browser') {
    throw new UsageError(`${name('loginScript')} is used by --login form or --login browser only.`);
  }
  if (config.login === 'form' && !config.loginScript) {
    throw new UsageError(
      `--login form needs ${name('loginScript')}: the JSON steps that fill and submit the login form.`,
    );
  }
}

/**
 * Header names `--header` may not set: the ones the checks themselves send, vary or leave out on
 * purpose (a negative probe without Authorization must stay without it), and the framing ones.
 */
const RESERVED_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'accept',
  'origin',
  'dpop',
  'last-event-id',
]);

/** `Name: value` → [name, raw value]; UsageError for a reserved name. */
function headerOf(line: string): [string, string] {
  const colon = line.indexOf(':');
  const name = line.slice(0, colon).trim();
  const value = line.slice(colon + 1).trim();
  const lower = name.toLowerCase();
  if (RESERVED_HEADERS.has(lower) || lower.startsWith('mcp-')) {
    throw new UsageError(
      `--header ${name}: the harness sets (or leaves out on purpose) this header itself; ${lower === 'authorization' ? 'give an access token with --token-env NAME instead' : 'it cannot be added to every request'}.`,
    );
  }
  return [name, value];
}

/** Redactor's lower bound (redact.ts MIN_SECRET_LENGTH): shorter values are not scrubbed. */
const MIN_REDACTED_LENGTH = 6;

/**
 * The `--header` lines as [name, value] pairs, `$env:NAME` values read from the environment (every
 * value is registered with the redactor by the caller: a header a gateway wants is usually a
 * credential). UsageError when a named variable is missing, or too short to be redacted reliably.
 */
export function readHeaders(config: Config, env: NodeJS.ProcessEnv): [string, string][] {
  return config.headers.map((line) => {
    const [name, raw] = headerOf(line);
    const ref = /^\$env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(raw);
    if (!ref) return [name, raw];
    const value = env[ref[1]!];
    if (value === undefined || value.trim() === '') {
      throw new UsageError(
        `--header ${name}: the environment variable ${ref[1]} is not set or empty. Export it before the run.`,
      );
    }
    if (value.trim().length < MIN_REDACTED_LENGTH) {
      throw new UsageError(
        `--header ${name}: the value of ${ref[1]} is shorter than ${MIN_REDACTED_LENGTH} characters, too short to be redacted reliably from the reports.`,
      );
    }
    return [name, value.trim()];
  });
}

/** Reads the secrets the options name. Throws UsageError when a named variable or file is missing. */
export function readSecrets(
  config: Config,
  env: NodeJS.ProcessEnv,
  cwd: string = process.cwd(),
): { accessToken?: string; accessTokenB?: string; clientSecret?: string; foreignToken?: string } {
  const fromFile = (path: string, flag: string) => {
    let value: string;
    try {
      value = readFileSync(resolve(cwd, path), 'utf8');
    } catch (err) {
      throw new UsageError(
        `${flag} ${path}: the file cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
      );
    }
    if (value.trim() === '') throw new UsageError(`${flag} ${path}: the file is empty.`);
    return value.trim();
  };
  const fromEnv = (name: string, flag: string) => {
    const value = env[name];
    if (value === undefined || value.trim() === '') {
      throw new UsageError(
        `${flag} ${name}: the environment variable ${name} is not set or empty. Export it before the run.`,
      );
    }
    return value.trim();
  };
  const either = (name: string | undefined, path: string | undefined, flag: string) =>
    name !== undefined
      ? fromEnv(name, `--${flag}-env`)
      : path !== undefined
        ? fromFile(path, `--${flag}-file`)
        : undefined;
  const accessToken = either(config.tokenEnv, config.tokenFile, 'token');
  const accessTokenB = either(config.tokenBEnv, config.tokenBFile, 'token-b');
  const clientSecret = either(config.clientSecretEnv, config.clientSecretFile, 'client-secret');
  const foreignToken = config.foreignTokenEnv
    ? fromEnv(config.foreignTokenEnv, '--foreign-token-env')
    : undefined;
  return {
    ...(foreignToken !== undefined ? { foreignToken } : {}),
    ...(accessToken !== undefined ? { accessToken } : {}),
    ...(accessTokenB !== undefined ? { accessTokenB } : {}),
    ...(clientSecret !== undefined ? { clientSecret } : {}),
  };
}

/** The JSON Schema published for editors (schemas/config.schema.json, `npm run schemas`). */
export function configJsonSchema(): unknown {
  return {
    ...z.toJSONSchema(ConfigSchema, { io: 'input', target: 'draft-2020-12' }),
    $id: 'https://github.com/mcp-auth-conformance/mcp-auth-conformance/schemas/config.schema.json',
    title: 'mcp-auth-conformance.config.json',
  };
}
