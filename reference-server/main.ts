// `npm run reference-server -- [flags]` and `mcp-auth-conformance serve [flags]`: starts the
// reference server and prints the URLs it serves, until Ctrl-C.

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { describeFaults, UnknownFaultError } from './faults.ts';
import { publicOriginsOf, type ReferenceServerOptions, startReferenceServer } from './server.ts';

export const SERVE_USAGE = `Usage: mcp-auth-conformance serve [options]
       npm run reference-server -- [options]

Starts the reference MCP server (resource server at <base>/mcp) and its OAuth 2.1
authorization server, bound to 127.0.0.1 unless --host says otherwise.

Options:
  --port N                  port of the MCP origin (default: an ephemeral port)
  --host H                  address to bind (default 127.0.0.1)
  --auto-approve            skip the consent page: authorization redirects straight back
  --skip-consent            a signed-in person is never asked to consent (trusted clients); the
                            sign-in page still shows once per sign-in session
  --fault NAME              switch on a named fault (repeatable); see --list-faults
  --list-faults             print the fault catalogue as JSON and exit
  --split                   serve the authorization server on a second port (second origin)
  --as-port N               port of the authorization server with --split
  --lenient-resource        a missing RFC 8707 resource binds the one known resource
  --allow-loopback-cimd     let Client ID Metadata Document fetches reach loopback addresses
  --public-methods a,b      JSON-RPC methods answered without a token
  --trust-issuer URL        trust this external authorization server instead of the bundled one
  --allowed-origins a,b     extra Origin values the MCP endpoint accepts
  --public-url URL          the origin clients reach the server at (https://mcp.example.com), when
                            it runs behind a TLS-terminating proxy: issuer, endpoints, resource and
                            protected-resource metadata URL are named with it
  --as-public-url URL       with --split: the origin clients reach the authorization server at
  -h, --help                this text
`;

export interface ServeIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Check registry entries, so --list-faults can say which checks each fault proves. */
  checks?: readonly { id: string; faults: readonly string[] }[];
  /** Resolves when the server should stop (default: SIGINT or SIGTERM). */
  until?: Promise<void>;
}

/** Runs `serve`; resolves with the process exit code (0 ok, 2 bad usage, 3 could not start). */
export async function serve(argv: readonly string[], io: ServeIo): Promise<number> {
  let values: ReturnType<typeof parseServeArgs>;
  try {
    values = parseServeArgs(argv);
  } catch (err) {
    io.err(`error: ${(err as Error).message}\n\n${SERVE_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(SERVE_USAGE);
    return 0;
  }
  if (values['list-faults']) {
    io.out(JSON.stringify(describeFaults(io.checks), null, 2));
    return 0;
  }

  let options: ReferenceServerOptions;
  try {
    options = toOptions(values);
  } catch (err) {
    io.err(`error: ${(err as Error).message}`);
    return 2;
  }

  let server: Awaited<ReturnType<typeof startReferenceServer>>;
  try {
    server = await startReferenceServer(options);
  } catch (err) {
    if (err instanceof UnknownFaultError) {
      io.err(`error: ${err.message}`);
      return 2;
    }
    io.err(`error: could not start the reference server: ${(err as Error).message}`);
    return 3;
  }

  const base = new URL(server.url).origin;
  io.out('mcp-auth-conformance reference server');
  if (options.publicUrl)
    io.out(`  bound to                    ${server.bound.join(', ')} (public origin ${base})`);
  io.out(`  MCP endpoint (resource)     ${server.url}`);
  io.out(`  protected-resource metadata ${base}/.well-known/oauth-protected-resource/mcp`);
  io.out(`  authorization server        ${server.issuer}`);
  io.out(`  authorization-server metadata ${server.issuer}/.well-known/oauth-authorization-server`);
  if (options.autoApprove) io.out('  consent: AUTO-APPROVE (no consent page; for automated runs only)');
  else
    io.out(
      `  consent: demo user "alice" / password "alice" on the consent page, once per sign-in session; ${
        options.skipConsent ? 'no consent asked (--skip-consent)' : 'consent asked once per client'
      }`,
    );
  if (server.faults.length > 0) io.out(`  FAULTS ON: ${server.faults.join(', ')}`);
  if (options.host && !isLoopback(options.host)) {
    io.err(`warning: bound to ${options.host}, which is not a loopback address`);
  }

  await (io.until ?? untilSignal());
  await server.close();
  return 0;
}

function parseServeArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'auto-approve': { type: 'boolean' },
      'skip-consent': { type: 'boolean' },
      fault: { type: 'string', multiple: true },
      'list-faults': { type: 'boolean' },
      split: { type: 'boolean' },
      'as-port': { type: 'string' },
      'lenient-resource': { type: 'boolean' },
      'allow-loopback-cimd': { type: 'boolean' },
      'public-methods': { type: 'string' },
      'trust-issuer': { type: 'string' },
      'allowed-origins': { type: 'string' },
      'public-url': { type: 'string' },
      'as-public-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
}

function toOptions(values: ReturnType<typeof parseServeArgs>): ReferenceServerOptions {
  const options: ReferenceServerOptions = {
    autoApprove: values['auto-approve'] ?? false,
    skipConsent: values['skip-consent'] ?? false,
    faults: values.fault ?? [],
    split: values.split ?? false,
    lenientResource: values['lenient-resource'] ?? false,
    allowLoopbackCimd: values['allow-loopback-cimd'] ?? false,
  };
  if (values.port !== undefined) options.port = parsePort(values.port, '--port');
  if (values['as-port'] !== undefined) options.asPort = parsePort(values['as-port'], '--as-port');
  if (values.host !== undefined) options.host = values.host;
  if (values['public-methods'] !== undefined) options.publicMethods = splitList(values['public-methods']);
  if (values['allowed-origins'] !== undefined) options.allowedOrigins = splitList(values['allowed-origins']);
  if (values['public-url'] !== undefined) options.publicUrl = values['public-url'];
  if (values['as-public-url'] !== undefined) options.asPublicUrl = values['as-public-url'];
  publicOriginsOf(options); // a bad --public-url is bad usage (exit 2), not a failed start
  if (values['trust-issuer'] !== undefined) {
    const issuer = values['trust-issuer'];
    if (!URL.canParse(issuer)) throw new Error(`--trust-issuer must be an absolute URL, got "${issuer}"`);
    options.trustIssuer = issuer;
  }
  return options;
}

function parsePort(text: string, flag: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${flag} must be a port number from 0 to 65535, got "${text}"`);
  }
  return port;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // The check registry fills each fault's `checks` in --list-faults; imported here only, so the
  // server itself never depends on the runner. `mcp-auth-conformance serve` passes the same list.
  const { CHECKS } = await import('../suites/index.ts');
  process.exitCode = await serve(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    checks: CHECKS,
  });
}
