// `mcp-auth-conformance serve [flags]` and `npm run reference-server -- [flags]`: starts the
// reference server and prints the URLs it serves, until Ctrl-C. Its flags are entries of the one
// option table (cli/config.ts), so a setting `run` also has carries the same name there.

import { describeFaults } from '../reference-server/faults.ts';
import { describeVariants } from '../reference-server/variants.ts';
import { type ReferenceServerOptions, startReferenceServer } from '../reference-server/server.ts';
import { loadServeConfig, serveHelp, UsageError } from './config.ts';

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
  let loaded: ReturnType<typeof loadServeConfig>;
  try {
    loaded = loadServeConfig(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`error: ${err.message}`);
    return 2;
  }
  if (loaded.help) {
    io.out(serveHelp());
    return 0;
  }
  if (loaded.listFaults) {
    io.out(JSON.stringify(describeFaults(io.checks), null, 2));
    return 0;
  }
  if (loaded.listVariants) {
    io.out(JSON.stringify(describeVariants(), null, 2));
    return 0;
  }

  const options: ReferenceServerOptions = loaded.options;
  let server: Awaited<ReturnType<typeof startReferenceServer>>;
  try {
    server = await startReferenceServer(options);
  } catch (err) {
    io.err(`error: could not start the reference server: ${(err as Error).message}`);
    return 3;
  }

  const resource = new URL(server.url);
  const issuer = new URL(server.issuer);
  // RFC 9728 §3.1 / RFC 8414 §3.1: the well-known suffix goes between the host and the path.
  const path = (url: URL) => (url.pathname === '/' ? '' : url.pathname);
  io.out('mcp-auth-conformance reference server');
  if (options.publicUrl)
    io.out(`  bound to                    ${server.bound.join(', ')} (public origin ${resource.origin})`);
  io.out(`  MCP endpoint (resource)     ${server.url}`);
  io.out(
    `  protected-resource metadata ${resource.origin}/.well-known/oauth-protected-resource${path(resource)}`,
  );
  io.out(`  authorization server        ${server.issuer}`);
  io.out(
    `  authorization-server metadata ${issuer.origin}/.well-known/oauth-authorization-server${path(issuer)}`,
  );
  if (options.autoApprove) io.out('  consent: AUTO-APPROVE (no consent page; for automated runs only)');
  else
    io.out(
      `  consent: demo user "alice" / password "alice" on the consent page, once per sign-in session; ${
        options.skipConsent ? 'no consent asked (--skip-consent)' : 'consent asked once per client'
      }`,
    );
  if (server.faults.length > 0) io.out(`  FAULTS ON: ${server.faults.join(', ')}`);
  if (server.variants.length > 0) io.out(`  variants on: ${server.variants.join(', ')}`);
  if (options.host && !isLoopback(options.host)) {
    io.err(`warning: bound to ${options.host}, which is not a loopback address`);
  }

  await (io.until ?? untilSignal());
  await server.close();
  return 0;
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
