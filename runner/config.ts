// Every option of `run`, in one zod schema: CLI flags, the config file
// (`mcp-auth-conformance.config.json`, or --config FILE) and environment variables feed it.
//
// Rules (issue #4 §Getting tokens):
// - Flags override the file; the file overrides the defaults.
// - Secrets never come through argv (it leaks into process lists and CI logs) nor through the
//   config file (it gets committed): only the NAME of an environment variable (--token-env,
//   --client-secret-env) or a FILE (--mint-key) is an option. The schema has no field that could
//   hold a secret, and rejects unknown keys, so `"token": "..."` in the file is an error.
// - A validation problem is a sentence that says what is wrong and what to do (exit code 2).

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { assertFaultNames, UnknownFaultError } from '../reference-server/faults.ts';
import { PUBLIC_METHOD_CANDIDATES } from './mcp.ts';
import { REVISIONS } from './revisions.ts';

export const CONFIG_FILE_NAME = 'mcp-auth-conformance.config.json';
/** Report formats; report.json is always written, the others are rendered from it. */
export const REPORT_FORMATS = ['json', 'md', 'junit', 'html', 'sarif', 'har'] as const;
export const FAIL_ON = ['must', 'should', 'never'] as const;
export const LOGIN_DRIVERS = ['auto', 'form', 'browser', 'manual'] as const;

/** Methods `--expect-public` may name (issue #5 RS-PUB): every anonymous probe except tools/call. */
const DECLARABLE_PUBLIC_METHODS = PUBLIC_METHOD_CANDIDATES.filter((m) => m !== 'tools/call') as [
  string,
  ...string[],
];

const idPrefix = z
  .string()
  .regex(/^[A-Za-z]+(-[A-Za-z0-9]+)*$/, 'is not a check ID prefix like RS, RS-PRM or AS-PKCE-01')
  .transform((s) => s.toUpperCase());
/** RFC 6749 §3.3 scope-token: 1*( %x21 / %x23-5B / %x5D-7E ). */
const scopeToken = z
  .string()
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'is not an OAuth scope token (RFC 6749 §3.3)');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not an environment variable name');
const httpUrl = z
  .string()
  .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), 'must be an absolute http(s) URL');

/** The options of a run; every field has a description (it becomes the editor's hover text). */
export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('JSON Schema of this file (for editors).'),
    target: httpUrl
      .optional()
      .describe('MCP endpoint URL to check. Absent: the reference server is started in process and checked.'),
    faults: z
      .array(z.string())
      .default([])
      .describe('Faults of the embedded reference server to switch on (only without target).'),
    spec: z
      .enum(['auto', ...REVISIONS])
      .default('auto')
      .describe(
        'MCP specification revision to check against. auto (the default): against a target, the newest revision the server speaks (negotiated: server/discover, else initialize); the embedded reference server is checked in the newest revision.',
      ),
    only: z
      .array(idPrefix)
      .default([])
      .describe('Run only checks whose ID starts with one of these prefixes.'),
    skip: z
      .array(idPrefix)
      .default([])
      .describe('Leave out checks whose ID starts with one of these prefixes.'),
    strict: z.boolean().default(false).describe('A violated SHOULD fails the run (instead of warning).'),
    out: z.string().min(1).default('./conformance-report').describe('Directory the reports are written to.'),
    format: z
      .array(z.enum(REPORT_FORMATS, { error: () => `must be one of ${REPORT_FORMATS.join(', ')}` }))
      .default([...REPORT_FORMATS])
      .describe(
        'Report formats: json (report.json), md (summary.md), junit (junit.xml), html (report.html), sarif (report.sarif), har (exchanges.har). report.json is always written.',
      ),
    baseline: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Expected-failures file (JSON or YAML): listed failures do not fail the run; unexpected ones and stale entries do.',
      ),
    failOn: z
      .enum(FAIL_ON)
      .default('must')
      .describe(
        'Which results decide the exit code: must (a fail), should (a fail or a warn), never (only a run that could not happen).',
      ),
    timeout: z
      .number()
      .positive()
      .max(600)
      .default(10)
      .describe('Time bound of one HTTP request, in seconds; a check gets 3x this, a login step 30x.'),
    runTimeout: z
      .number()
      .positive()
      .max(86_400)
      .default(900)
      .describe('Time bound of the whole run, in seconds.'),
    concurrency: z.int().min(1).max(32).default(4).describe('Checks run at the same time.'),
    login: z.enum(LOGIN_DRIVERS).default('auto').describe('How the authorization step is passed.'),
    loginScript: z.string().min(1).optional().describe('JSON form script for --login form|browser.'),
    chromiumPath: z.string().min(1).optional().describe('Chromium executable for --login browser.'),
    tokenEnv: envName
      .optional()
      .describe('Name of an environment variable holding an access token for the target.'),
    tokenBEnv: envName
      .optional()
      .describe(
        "Name of an environment variable holding a second user's access token (RS-SESS-02, RS-SESS-04: a session or state of one user must not serve another).",
      ),
    clientId: z
      .string()
      .min(1)
      .optional()
      .describe('A client already registered at the authorization server.'),
    clientSecretEnv: envName
      .optional()
      .describe('Name of an environment variable holding the secret of clientId (confidential client).'),
    tokenFile: z
      .string()
      .min(1)
      .optional()
      .describe('File holding an access token for the target (a mounted CI secret); instead of tokenEnv.'),
    tokenBFile: z
      .string()
      .min(1)
      .optional()
      .describe("File holding a second user's access token; instead of tokenBEnv."),
    clientSecretFile: z
      .string()
      .min(1)
      .optional()
      .describe('File holding the secret of clientId; instead of clientSecretEnv.'),
    mintKey: z
      .string()
      .min(1)
      .optional()
      .describe('File with a private JWK the target trusts, to forge tokens.'),
    mintIssuer: httpUrl.optional().describe('Issuer to put in forged tokens (with mintKey).'),
    expectPublic: z
      .array(
        z.enum(DECLARABLE_PUBLIC_METHODS, {
          error: () =>
            `must be among ${DECLARABLE_PUBLIC_METHODS.join(', ')} (tools/call can never be declared public: it has side effects)`,
        }),
      )
      .default([])
      .describe(
        'JSON-RPC methods the target answers without a token on purpose: the RS-PUB checks report them but do not warn.',
      ),
    allowRaces: z
      .boolean()
      .default(false)
      .describe(
        'Let the race probes (AS-RACE: 20 parallel token requests) run against a non-loopback target; they run against loopback targets anyway.',
      ),
    codeLifetimeWait: z
      .number()
      .min(0)
      .max(600)
      .optional()
      .describe(
        'Seconds AS-AUTHZ-12 waits before redeeming a code: the longest code lifetime you accept (600 tests the 10-minute maximum OAuth 2.1 §4.1.2 RECOMMENDS). Absent or 0 against a target: the check skips. Against the embedded server: 1.5 (its codes then live 1 s).',
      ),
    privilegedTool: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A tool that needs more scope than the default token holds: the RS-403 checks call it to observe step-up (default against the embedded server: write_note).',
      ),
    scopeImplies: z
      .record(scopeToken, z.array(scopeToken).min(1, 'must name at least one implied scope'), {
        error: (issue) =>
          issue.code === 'invalid_key'
            ? `"${String(issue.input)}" is not an OAuth scope token (RFC 6749 §3.3)`
            : undefined,
      })
      .default({})
      .describe(
        'The scope hierarchy of the target: each key is a broad scope, its value the narrower scopes it implies (e.g. {"files:*": ["files:read"]}). RS-403-05 checks that a token of only the broad scope is accepted where a narrower one is needed.',
      ),
    stateTool: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A tool that answers its first call with input_required and a requestState (MCP 2026-07-28 multi-round-trip): RS-SESS-04 replays that state with another user, without a token and tampered (default against the embedded server: read_my_notes).',
      ),
    otherResource: httpUrl
      .optional()
      .describe(
        'A resource (RFC 8707) the authorization server also issues tokens for: RS-AUD-01 asks it for a token for this resource and presents it to the target (default: synthetic resources on the authorization server host and beside the endpoint).',
      ),
    foreignTokenEnv: envName
      .optional()
      .describe(
        'Name of an environment variable holding an access token the same authorization server issued for another service: RS-AUD-01 presents it to the target and expects 401.',
      ),
    allowOrigins: z
      .array(httpUrl)
      .default([])
      .describe('Extra origins the login step may visit (an identity provider on another host).'),
  })
  .describe('Configuration of mcp-auth-conformance run');

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Bad usage or configuration: exit code 2, message shown as is. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const RUN_FLAGS = {
  target: { type: 'string' },
  fault: { type: 'string', multiple: true },
  spec: { type: 'string' },
  only: { type: 'string', multiple: true },
  skip: { type: 'string', multiple: true },
  strict: { type: 'boolean' },
  out: { type: 'string' },
  format: { type: 'string', multiple: true },
  baseline: { type: 'string' },
  'fail-on': { type: 'string' },
  timeout: { type: 'string' },
  config: { type: 'string' },
  login: { type: 'string' },
  'login-script': { type: 'string' },
  'token-env': { type: 'string' },
  'token-b-env': { type: 'string' },
  'token-file': { type: 'string' },
  'token-b-file': { type: 'string' },
  'client-secret-file': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-env': { type: 'string' },
  'mint-key': { type: 'string' },
  'mint-issuer': { type: 'string' },
  'allow-origin': { type: 'string', multiple: true },
  'expect-public': { type: 'string', multiple: true },
  'privileged-tool': { type: 'string' },
  'scope-implies': { type: 'string', multiple: true },
  'state-tool': { type: 'string' },
  'allow-races': { type: 'boolean' },
  'code-lifetime-wait': { type: 'string' },
  'other-resource': { type: 'string' },
  'foreign-token-env': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

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
}

/** Parses `run` flags, reads the config file, merges and validates. Throws UsageError. */
export function loadRunConfig(argv: readonly string[], cwd: string = process.cwd()): LoadedConfig {
  for (const arg of argv) {
    const name = /^--([a-z-]+)(=|$)/.exec(arg)?.[1];
    if (name && SECRET_FLAGS[name]) {
      throw new UsageError(
        `--${name} is not accepted: secrets never go on the command line (process lists and CI logs show it). Use ${SECRET_FLAGS[name]} instead.`,
      );
    }
  }
  let values: ReturnType<typeof parseRunFlags>;
  try {
    values = parseRunFlags(argv);
  } catch (err) {
    throw new UsageError(
      `${(err as Error).message.replace(/\.$/, '')}. See "mcp-auth-conformance run --help".`,
    );
  }
  if (values.help) return { config: ConfigSchema.parse({}), help: true };

  const configFile = values.config
    ? resolve(cwd, values.config)
    : existsSync(resolve(cwd, CONFIG_FILE_NAME))
      ? resolve(cwd, CONFIG_FILE_NAME)
      : undefined;
  const fromFile = configFile ? readConfigFile(configFile, values.config !== undefined) : {};
  const fromFlags = flagsToInput(values);
  const merged = { ...fromFile, ...fromFlags };
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const source = configFile ? ` (flags, and the config file ${configFile})` : '';
    throw new UsageError(`invalid configuration${source}:\n${describeIssues(parsed.error)}`);
  }
  checkCombinations(parsed.data);
  return { config: parsed.data, ...(configFile ? { configFile } : {}), help: false };
}

function parseRunFlags(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: RUN_FLAGS, strict: true, allowPositionals: false }).values;
}

function flagsToInput(values: ReturnType<typeof parseRunFlags>): Record<string, unknown> {
  const list = (v: string[] | undefined) =>
    v
      ?.flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
  const input: Record<string, unknown> = {
    target: values.target,
    faults: values.fault,
    spec: values.spec,
    only: list(values.only),
    skip: list(values.skip),
    strict: values.strict,
    out: values.out,
    format: list(values.format),
    baseline: values.baseline,
    failOn: values['fail-on'],
    timeout: values.timeout === undefined ? undefined : parseSeconds(values.timeout),
    login: values.login,
    loginScript: values['login-script'],
    tokenEnv: values['token-env'],
    tokenBEnv: values['token-b-env'],
    tokenFile: values['token-file'],
    tokenBFile: values['token-b-file'],
    clientSecretFile: values['client-secret-file'],
    clientId: values['client-id'],
    clientSecretEnv: values['client-secret-env'],
    mintKey: values['mint-key'],
    mintIssuer: values['mint-issuer'],
    allowOrigins: values['allow-origin'],
    expectPublic: list(values['expect-public']),
    privilegedTool: values['privileged-tool'],
    scopeImplies: scopeImpliesFromFlags(values['scope-implies']),
    stateTool: values['state-tool'],
    allowRaces: values['allow-races'],
    codeLifetimeWait:
      values['code-lifetime-wait'] === undefined ? undefined : parseSeconds(values['code-lifetime-wait']),
    otherResource: values['other-resource'],
    foreignTokenEnv: values['foreign-token-env'],
  };
  for (const key of Object.keys(input)) if (input[key] === undefined) delete input[key];
  return input;
}

/**
 * `--scope-implies BROAD=NARROW[,NARROW]` (repeatable) → `{ BROAD: [NARROW, …] }`. The scope
 * tokens themselves are checked by the schema; only the shape is checked here.
 */
function scopeImpliesFromFlags(values: string[] | undefined): Record<string, string[]> | undefined {
  if (!values) return undefined;
  const out: Record<string, string[]> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    const broad = value.slice(0, eq).trim();
    const narrow = value
      .slice(eq + 1)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (eq <= 0 || broad === '' || narrow.length === 0) {
      throw new UsageError(
        `--scope-implies "${value}" is not BROAD=NARROW[,NARROW] (for example --scope-implies files:*=files:read,files:write).`,
      );
    }
    out[broad] = [...new Set([...(out[broad] ?? []), ...narrow])];
  }
  return out;
}

/** `10`, `2.5`, `10s`, `500ms` → seconds; anything else is left for the schema to refuse. */
function parseSeconds(text: string): number | string {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (!m) return text;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : n;
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

/** One sentence per issue: `option "timeout": must be positive`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const key = issue.path[0];
      const path = key !== undefined ? `option "${String(key)}"` : 'the options';
      if (issue.code === 'unrecognized_keys') {
        return `  - ${path}: unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (see "mcp-auth-conformance run --help")`;
      }
      if (issue.code === 'invalid_value' && 'values' in issue) {
        return `  - ${path}: must be one of ${issue.values.map(String).join(', ')}`;
      }
      return `  - ${path}: ${issue.message}`;
    })
    .join('\n');
}

/** Rules that span several options. */
function checkCombinations(config: Config): void {
  if (config.target && config.faults.length > 0) {
    throw new UsageError(
      '--fault switches faults of the embedded reference server, so it cannot be combined with --target. Drop --target to run against the embedded server.',
    );
  }
  try {
    assertFaultNames(config.faults);
  } catch (err) {
    if (err instanceof UnknownFaultError) {
      throw new UsageError(
        `${err.message.replace('--list-faults', '"mcp-auth-conformance serve --list-faults"')}.`,
      );
    }
    throw err;
  }
  if (config.mintKey && !config.mintIssuer && config.target) {
    throw new UsageError('--mint-key needs --mint-issuer: the issuer the target trusts for that key.');
  }
  if (config.clientSecretEnv && !config.clientId) {
    throw new UsageError('--client-secret-env needs --client-id: the client whose secret it is.');
  }
  if (config.clientSecretFile && !config.clientId) {
    throw new UsageError('--client-secret-file needs --client-id: the client whose secret it is.');
  }
  for (const [env, file, what] of [
    [config.tokenEnv, config.tokenFile, '--token-env and --token-file'],
    [config.tokenBEnv, config.tokenBFile, '--token-b-env and --token-b-file'],
    [config.clientSecretEnv, config.clientSecretFile, '--client-secret-env and --client-secret-file'],
  ] as const) {
    if (env && file) throw new UsageError(`${what} name the same secret twice: give one of them.`);
  }
  if (config.loginScript && config.login !== 'form' && config.login !== 'browser') {
    throw new UsageError('--login-script is used by --login form or --login browser only.');
  }
  if (config.login === 'form' && !config.loginScript) {
    throw new UsageError(
      '--login form needs --login-script FILE: the JSON steps that fill and submit the login form.',
    );
  }
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
  const either = (name: string | undefined, path: string | undefined, flag: string) =>
    name !== undefined
      ? fromEnv(name, `--${flag}-env`)
      : path !== undefined
        ? fromFile(path, `--${flag}-file`)
        : undefined;
  const fromEnv = (name: string, flag: string) => {
    const value = env[name];
    if (value === undefined || value.trim() === '') {
      throw new UsageError(
        `${flag} ${name}: the environment variable ${name} is not set or empty. Export it before the run.`,
      );
    }
    return value.trim();
  };
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
