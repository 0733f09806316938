// The reference server's shared frame: start and stop, fault names, the serve CLI, and the
// guarantees that hold for every path whatever the halves do (no crash, no 500 on bad input).

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFaults, FAULTS } from '../../reference-server/faults.ts';
import { serve } from '../../cli/serve.ts';
import { type RunningReferenceServer, startReferenceServer } from '../../reference-server/server.ts';

describe('startReferenceServer', () => {
  let server: RunningReferenceServer;
  beforeAll(async () => {
    server = await startReferenceServer({ autoApprove: true });
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves the MCP endpoint at <origin>/mcp and the issuer at the origin, on loopback', () => {
    const url = new URL(server.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.pathname).toBe('/mcp');
    expect(server.issuer).toBe(url.origin);
    expect(server.issuer.endsWith('/')).toBe(false);
  });

  it('hands out a private ES256 signing key for forging tokens', () => {
    expect(server.signingKey).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(typeof server.signingKey.d).toBe('string');
    expect(typeof server.signingKey.kid).toBe('string');
  });

  it('answers an unknown path with a JSON 404, not a crash', async () => {
    const res = await fetch(`${server.issuer}/no/such/path`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('answers a malformed request line with 400 and keeps serving', async () => {
    const port = Number(new URL(server.issuer).port);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET not a target HTTP/1.1\r\n\r\n'));
      let data = '';
      socket.on('data', (d) => {
        data += d.toString();
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.setTimeout(2000, () => {
        socket.destroy();
        resolve(data);
      });
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    const after = await fetch(`${server.issuer}/no/such/path`);
    expect(after.status).toBe(404);
  });

  it('can be closed twice', async () => {
    const other = await startReferenceServer();
    await other.close();
    await expect(other.close()).resolves.toBeUndefined();
  });
});

describe('start-up failures', () => {
  it('rejects when the port is taken, and releases the other origin it had opened', async () => {
    const first = await startReferenceServer();
    const taken = Number(new URL(first.url).port);
    try {
      await expect(startReferenceServer({ port: taken })).rejects.toThrow(/EADDRINUSE/);
      // Split: the authorization server's origin opens first, then the taken port fails;
      // the AS port must be free again afterwards.
      const probe = await startReferenceServer();
      const freePort = Number(new URL(probe.url).port);
      await probe.close();
      await expect(startReferenceServer({ split: true, asPort: freePort, port: taken })).rejects.toThrow(
        /EADDRINUSE/,
      );
      const reuse = await startReferenceServer({ port: freePort });
      await reuse.close();
    } finally {
      await first.close();
    }
  });
});

describe('split mode', () => {
  it('puts the authorization server on a second origin', async () => {
    const server = await startReferenceServer({ split: true });
    try {
      expect(new URL(server.url).origin).not.toBe(server.issuer);
      expect(new URL(server.issuer).hostname).toBe('127.0.0.1');
    } finally {
      await server.close();
    }
  });
});

describe('fault catalogue', () => {
  it('refuses an unknown fault instead of silently running a clean server', async () => {
    await expect(startReferenceServer({ faults: ['no-such-fault'] })).rejects.toThrow(
      /unknown fault: no-such-fault/,
    );
  });

  it('has unique kebab-case names, each prefixed by its half, with a description', () => {
    const names = FAULTS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const fault of FAULTS) {
      expect(fault.name).toMatch(/^(as|rs)-[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(fault.name.startsWith(`${fault.half}-`)).toBe(true);
      expect(fault.description.length).toBeGreaterThan(20);
    }
  });

  it('derives the checks of each fault from the checks that name it', () => {
    const first = FAULTS[0]!.name;
    const listing = describeFaults([
      { id: 'X-1', faults: [first] },
      { id: 'X-2', faults: [] },
    ]);
    expect(listing.find((f) => f.name === first)?.checks).toEqual(['X-1']);
    expect(listing.every((f) => f.name === first || f.checks.length === 0)).toBe(true);
  });
});

describe('serve CLI', () => {
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
  };

  it('prints the fault catalogue as JSON with --list-faults', async () => {
    const c = capture();
    expect(await serve(['--list-faults'], c.io)).toBe(0);
    const listing = JSON.parse(c.out.join('\n')) as { name: string; description: string; checks: string[] }[];
    expect(listing.map((f) => f.name)).toEqual(FAULTS.map((f) => f.name));
  });

  it('exits 2 with a clear message on an unknown flag, a bad port or an unknown fault', async () => {
    for (const argv of [['--nope'], ['--port', '70000'], ['--fault', 'no-such-fault']]) {
      const c = capture();
      expect(await serve(argv, c.io)).toBe(2);
      expect(c.err.join('\n')).toMatch(/error: /);
    }
  });

  it('starts, prints the URLs it serves, and stops when told to', async () => {
    const c = capture();
    let stop!: () => void;
    const until = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const running = serve(['--auto-approve'], { ...c.io, until });
    await expect.poll(() => c.out.join('\n'), { timeout: 5000 }).toMatch(/AUTO-APPROVE/);
    const text = c.out.join('\n');
    const mcp = /MCP endpoint \(resource\)\s+(\S+)/.exec(text)?.[1];
    expect(mcp).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    stop();
    expect(await running).toBe(0);
  });
});
