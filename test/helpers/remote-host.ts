// A remote test host: a target started the way a deployed server runs, for tests and benchmarks.
//
// - Its own network namespace (`ip netns add`), joined to the runner's by a veth pair carrying a
//   /30 of 10.200.0.0/16 chosen at random and checked unused on this machine. Inside, the target
//   binds the namespace's own loopback; the namespace has no route anywhere but the /30, so the
//   target cannot reach any listener on the runner's loopback (the harness's metadata-document
//   host, its login callback), exactly like a server on another machine.
// - TLS with a test CA generated for this host (openssl, EC P-256, valid one day): the runner
//   trusts it only through `run --ca`, never by turning verification off.
// - Latency: every chunk waits `latencyMs` (default 25) in each direction at the edge
//   (test/helpers/remote-edge.ts), a user-space proxy, since this kernel has no `tc netem`.
//
// Everything it creates (processes, namespace, veth, temp files) is removed by close(), and by a
// process exit hook should a test never get to call it. Where namespaces cannot be created
// (not Linux, not root, no `ip` or `openssl`, no permission), remoteHostUnavailable() says why,
// and the tests skip with that reason.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EDGE = join(REPO_ROOT, 'test', 'helpers', 'remote-edge.ts');
const READY_TIMEOUT_MS = 30_000;

export interface RemoteProcessSpec {
  name: string;
  /** argv; a first element "node" is this Node (process.execPath). */
  command: readonly string[];
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
}

export interface RemoteProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The last lines it wrote (stdout and stderr), for failure messages. */
  log(): string;
}

export interface RemoteHost {
  /** The network namespace's name. */
  readonly namespace: string;
  /** The target's address (the namespace's end of the veth). */
  readonly address: string;
  /** The runner's end of the veth. */
  readonly peerAddress: string;
  /** PEM file of the test CA that signed the host's certificate (what `run --ca` takes). */
  readonly caFile: string;
  /** This host's temporary folder (certificates, logs); removed by close(). */
  readonly dir: string;
  /** `https://ADDRESS[:port]`: the origin clients reach an exposed port at. */
  origin(port?: number): string;
  /** Starts a process inside the namespace; close() stops it. */
  spawn(spec: RemoteProcessSpec): RemoteProcess;
  /** Every process started inside the namespace so far (the edges included). */
  readonly processes: readonly RemoteProcess[];
  /**
   * Serves `upstreamPort` (on the namespace's loopback) at ADDRESS:`publicPort` with TLS and the
   * latency; resolves with the public origin once the edge listens.
   */
  expose(publicPort: number, upstreamPort: number): Promise<string>;
  /** Polls `url` (through the edge, trusting the test CA) until it answers below 500. */
  waitReady(url: string, proc?: RemoteProcess): Promise<void>;
  close(): Promise<void>;
}

let availability: string | undefined | null = null;

/** Why a remote host cannot be made on this machine, or undefined when it can. Probed once. */
export function remoteHostUnavailable(): string | undefined {
  if (availability !== null) return availability;
  availability = probe();
  return availability;
}

function probe(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root (CI runs as root)';
  for (const [tool, args] of [
    ['ip', ['-V']],
    ['openssl', ['version']],
  ] as const) {
    const r = spawnSync(tool, args, { encoding: 'utf8' });
    if (r.error || r.status !== 0)
      return `\`${tool}\` is not available (${r.error?.message ?? r.stderr.trim()})`;
  }
  const name = `mcpac-probe-${randomBytes(4).toString('hex')}`;
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (add.status !== 0) return `\`ip netns add\` is refused here: ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', name]);
  return undefined;
}

/** Hosts not yet closed: the exit hook removes what they made if a test never closes them. */
const live = new Set<{ cleanupSync(): void }>();
let hookInstalled = false;
function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.once('exit', () => {
    for (const host of live) host.cleanupSync();
  });
}

export async function startRemoteHost(options: { latencyMs?: number } = {}): Promise<RemoteHost> {
  const why = remoteHostUnavailable();
  if (why) throw new Error(`no remote host here: ${why}`);
  const latencyMs = options.latencyMs ?? 25;
  const id = randomBytes(4).toString('hex');
  const namespace = `mcpac-${id}`;
  // Interface names are at most 15 characters.
  const hostVeth = `mch${id}`;
  const nsVeth = `mcn${id}`;
  const [peerAddress, address] = pickSubnet();
  const dir = mkdtempSync(join(tmpdir(), `remote-host-${id}-`));
  const processes: RemoteProcess[] = [];

  const cleanupSync = () => {
    for (const p of processes)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', namespace]);
    spawnSync('ip', ['link', 'del', hostVeth]);
    rmSync(dir, { recursive: true, force: true });
  };
  const entry = { cleanupSync };
  live.add(entry);
  installExitHook();

  let certificates: ReturnType<typeof makeCertificates>;
  try {
    ip('netns', 'add', namespace);
    ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', nsVeth);
    ip('link', 'set', nsVeth, 'netns', namespace);
    ip('addr', 'add', `${peerAddress}/30`, 'dev', hostVeth);
    ip('link', 'set', hostVeth, 'up');
    ip('-n', namespace, 'addr', 'add', `${address}/30`, 'dev', nsVeth);
    ip('-n', namespace, 'link', 'set', nsVeth, 'up');
    ip('-n', namespace, 'link', 'set', 'lo', 'up');
    certificates = makeCertificates(dir, address);
  } catch (err) {
    cleanupSync();
    live.delete(entry);
    throw err;
  }
  const { caFile, certFile, keyFile } = certificates;
  const ca = readFileSync(caFile, 'utf8');
  const agent = new Agent({ connect: { ca } });

  const spawnIn = (spec: RemoteProcessSpec): RemoteProcess => {
    const [command, ...args] = spec.command;
    const child = spawn(
      'ip',
      ['netns', 'exec', namespace, command === 'node' ? process.execPath : command!, ...args],
      {
        cwd: spec.cwd ?? REPO_ROOT,
        env: { ...process.env, NODE_ENV: 'test', ...spec.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const lines: string[] = [];
    const keep = (chunk: Buffer) => {
      lines.push(chunk.toString('utf8'));
      if (lines.length > 200) lines.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', (err) => lines.push(`spawn error: ${err.message}`));
    const proc: RemoteProcess = { name: spec.name, child, log: () => lines.join('').slice(-2000) };
    processes.push(proc);
    return proc;
  };

  const origin = (port = 443) => `https://${address}${port === 443 ? '' : `:${port}`}`;

  let closed: Promise<void> | undefined;
  return {
    namespace,
    address,
    peerAddress,
    caFile,
    dir,
    origin,
    spawn: spawnIn,
    processes,
    async expose(publicPort, upstreamPort) {
      const edge = spawnIn({
        name: `edge :${publicPort}`,
        command: [
          'node',
          '--import',
          'tsx',
          EDGE,
          '--listen',
          `${address}:${publicPort}`,
          '--upstream',
          String(upstreamPort),
          '--cert',
          certFile,
          '--key',
          keyFile,
          '--delay',
          String(latencyMs),
        ],
      });
      await new Promise<void>((resolveReady, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the edge did not start within ${READY_TIMEOUT_MS} ms: ${edge.log()}`)),
          READY_TIMEOUT_MS,
        );
        edge.child.stdout?.on('data', (chunk: Buffer) => {
          if (chunk.toString('utf8').includes('ready')) {
            clearTimeout(timer);
            resolveReady();
          }
        });
        edge.child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`the edge exited (code ${code}): ${edge.log()}`));
        });
      });
      return origin(publicPort);
    },
    async waitReady(url, proc) {
      const deadline = Date.now() + READY_TIMEOUT_MS;
      let last = '';
      while (Date.now() < deadline) {
        if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null))
          throw new Error(
            `${proc.name} exited (code ${proc.child.exitCode}) before it answered: ${proc.log()}`,
          );
        try {
          const res = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(2_000) });
          await res.body.dump();
          if (res.statusCode < 500) return;
          last = `HTTP ${res.statusCode}`;
        } catch (err) {
          last = (err as Error).message;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(
        `${url} did not answer within ${READY_TIMEOUT_MS} ms (${last})${proc ? `: ${proc.log()}` : ''}`,
      );
    },
    close() {
      closed ??= (async () => {
        await agent.close().catch(() => undefined);
        await Promise.all(processes.map(stop));
        cleanupSync();
        live.delete(entry);
      })();
      return closed;
    },
  };
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || r.error?.message}`);
}

async function stop(proc: RemoteProcess): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(killer);
}

/**
 * A /30 of 10.200.0.0/16 no address or route of this machine touches: [runner side, target side].
 * Random, so concurrent test files (and other worktrees' runs) rarely collide; re-drawn if taken.
 */
function pickSubnet(): [string, string] {
  const used = `${spawnSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' }).stdout}\n${
    spawnSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout
  }`;
  const taken = [...used.matchAll(/\b(10\.200\.\d+\.\d+)(?:\/(\d+))?/g)].map(([, a, len]) => ({
    net: toInt(a!),
    len: Number(len ?? 32),
  }));
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = toInt('10.200.0.0') + randomInt(0, 16384) * 4;
    // Two prefixes overlap when they agree on the bits of the shorter one.
    const overlaps = taken.some(({ net, len }) => {
      const bits = Math.min(len, 30);
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      return ((net ^ base) & mask) >>> 0 === 0;
    });
    if (!overlaps) return [toDotted(base + 1), toDotted(base + 2)];
  }
  throw new Error('no free /30 in 10.200.0.0/16 after 100 draws');
}

function toInt(dotted: string): number {
  return dotted.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

function toDotted(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
}

/** A one-day test CA and a certificate for `address` (subjectAltName IP) it signed. */
function makeCertificates(
  dir: string,
  address: string,
): { caFile: string; certFile: string; keyFile: string } {
  const caFile = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  const keyFile = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const certFile = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  writeFileSync(
    ext,
    `subjectAltName=IP:${address}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-days',
    '1',
    '-subj',
    '/CN=mcp-auth-conformance test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl('req', ...ec, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${address}`);
  openssl(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    caFile,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-out',
    certFile,
    '-days',
    '1',
    '-extfile',
    ext,
  );
  return { caFile, certFile, keyFile };
}

function openssl(...args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr.trim() || r.error?.message}`);
}
