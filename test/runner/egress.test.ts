// The egress policy (runner/egress.ts) and its enforcement in the HTTP client (runner/http.ts):
// which addresses the runner connects to, that names are checked before DNS, every resolved
// address is checked, and the socket goes to the checked address (no DNS rebinding).

import { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type AddressClass,
  classifyAddress,
  EgressPolicy,
  EgressRefused,
  type ResolvedAddress,
} from '../../runner/egress.ts';
import { HttpRecorder, HttpTransportError } from '../../runner/http.ts';
import { json, type StubServer, startStub } from '../client/helpers/stub-server.ts';

describe('classifyAddress', () => {
  const table: [string, AddressClass][] = [
    ['93.184.216.34', 'public'],
    ['2606:2800:220:1:248:1893:25c8:1946', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'unique-local'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['169.254.169.254', 'cloud-metadata'],
    ['169.254.170.2', 'cloud-metadata'],
    ['fd00:ec2::254', 'cloud-metadata'],
    ['100.100.100.200', 'cloud-metadata'],
    ['168.63.129.16', 'cloud-metadata'],
    // The IPv4 inside IPv4-mapped, NAT64 and 6to4 addresses decides.
    ['::ffff:169.254.169.254', 'cloud-metadata'],
    ['::ffff:7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'cloud-metadata'],
    ['2002:0a00:0001::1', 'private'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'multicast'],
    ['192.0.2.1', 'special-purpose'],
    ['not an address', 'unspecified'],
  ];
  it.each(table)('%s is %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });
});

/** A resolver that answers from a table and records every name it was asked. */
function fakeDns(table: Record<string, string[]>) {
  const asked: string[] = [];
  const resolve = async (host: string): Promise<ResolvedAddress[]> => {
    asked.push(host);
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { asked, resolve };
}

describe('EgressPolicy', () => {
  const refusal = async (policy: EgressPolicy, host: string) => {
    try {
      await policy.check(host);
      return undefined;
    } catch (err) {
      expect(err).toBeInstanceOf(EgressRefused);
      return err as EgressRefused;
    }
  };

  it('refuses cloud metadata names before resolving them, even when the operator allows them', async () => {
    const dns = fakeDns({ 'metadata.google.internal': ['169.254.169.254'] });
    const policy = new EgressPolicy({
      target: 'http://127.0.0.1:1/mcp',
      allowHosts: ['metadata.google.internal'],
      resolve: dns.resolve,
    });
    for (const host of [
      'metadata.google.internal',
      'METADATA.google.internal.',
      'metadata.goog',
      'metadata',
    ]) {
      const refused = await refusal(policy, host);
      expect(refused?.addressClass).toBe('cloud-metadata');
      expect(refused?.message).toMatch(/never contacts/);
    }
    expect(dns.asked).toEqual([]);
  });

  it('never opens link-local or metadata addresses, whatever the target or --allow-host', async () => {
    const policy = new EgressPolicy({
      target: 'http://169.254.10.10/mcp',
      allowHosts: ['169.254.169.254', 'fd00:ec2::254'],
      resolve: fakeDns({}).resolve,
    });
    for (const host of [
      '169.254.169.254',
      '[fd00:ec2::254]',
      '[::ffff:169.254.169.254]',
      '169.254.10.11',
      '[fe80::1]',
    ]) {
      const refused = await refusal(policy, host);
      expect(['link-local', 'cloud-metadata']).toContain(refused?.addressClass);
    }
  });

  it('opens a restricted class when the target is in it, or for a host the operator names', async () => {
    const dns = fakeDns({ localhost: ['::1', '127.0.0.1'], 'ci.internal': ['10.1.2.3'] });
    const loopbackTarget = new EgressPolicy({ target: 'http://localhost:3000/mcp', resolve: dns.resolve });
    expect(await loopbackTarget.check('127.0.0.2')).toEqual([{ address: '127.0.0.2', family: 4 }]);
    const refused = await refusal(loopbackTarget, '10.0.0.1');
    expect(refused?.addressClass).toBe('private');
    expect(refused?.message).toContain('--allow-host 10.0.0.1');
    expect((await refusal(loopbackTarget, 'ci.internal'))?.address).toBe('10.1.2.3');

    const allowed = new EgressPolicy({
      target: 'http://localhost:3000/mcp',
      allowHosts: ['10.0.0.1', 'CI.internal'],
      resolve: dns.resolve,
    });
    expect(await allowed.check('10.0.0.1')).toHaveLength(1);
    expect(await allowed.check('ci.internal')).toEqual([{ address: '10.1.2.3', family: 4 }]);
    expect(await allowed.describe()).toEqual({
      openClasses: ['loopback'],
      allowHosts: ['10.0.0.1', 'ci.internal'],
    });
  });

  it('refuses loopback and private addresses for a public target', async () => {
    const dns = fakeDns({ 'mcp.example': ['93.184.216.34'], 'as.example': ['93.184.216.35'] });
    const policy = new EgressPolicy({ target: 'https://mcp.example/mcp', resolve: dns.resolve });
    expect(await policy.check('as.example')).toHaveLength(1);
    expect((await refusal(policy, '127.0.0.1'))?.addressClass).toBe('loopback');
    expect((await refusal(policy, '[fd00::1]'))?.addressClass).toBe('unique-local');
  });

  it('checks every address a name resolves to: one bad address refuses the host', async () => {
    const dns = fakeDns({
      'mixed.example': ['93.184.216.34', '169.254.169.254'],
      'mcp.example': ['93.184.216.1'],
    });
    const policy = new EgressPolicy({ target: 'https://mcp.example/mcp', resolve: dns.resolve });
    const refused = await refusal(policy, 'mixed.example');
    expect(refused).toMatchObject({
      host: 'mixed.example',
      addressClass: 'cloud-metadata',
      address: '169.254.169.254',
    });
    expect(refused?.message).toContain('mixed.example resolves to 169.254.169.254');
  });
});

describe('HttpRecorder under the egress policy', () => {
  let stub: StubServer | undefined;
  let http: HttpRecorder | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await http?.close();
    await stub?.close();
    http = undefined;
    stub = undefined;
  });

  /** Records the host of every TCP connection attempt made in this process. */
  function connectSpy(): string[] {
    const hosts: string[] = [];
    const original = Socket.prototype.connect;
    vi.spyOn(Socket.prototype, 'connect').mockImplementation(function (this: Socket, ...args: unknown[]) {
      const first = args[0] as { host?: string } | unknown[];
      const options = Array.isArray(first) ? (first[0] as { host?: string }) : first;
      if (options && typeof options === 'object' && 'host' in options) hosts.push(String(options.host));
      return (original as (...a: unknown[]) => Socket).apply(this, args);
    });
    return hosts;
  }

  it('refuses a metadata address before any connection and records the refusal on the exchange', async () => {
    stub = await startStub((_req, res) => json(res, 200, {}));
    http = new HttpRecorder({ allowedOrigins: [stub.origin], allowAnyOrigin: true, timeoutMs: 1_000 });
    const hosts = connectSpy();
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://metadata.google.internal/',
    ]) {
      const err = await http.request(url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpTransportError);
      expect(err).toMatchObject({ kind: 'forbidden-address' });
    }
    expect(hosts).toEqual([]);
    expect(http.exchanges.map((e) => e.refused?.addressClass)).toEqual([
      'cloud-metadata',
      'cloud-metadata',
      'cloud-metadata',
    ]);
    expect(
      http.exchanges.every((e) => e.response === undefined && /refused to contact/.test(e.error ?? '')),
    ).toBe(true);
  });

  it('connects to the address it checked: a name that rebinds to a metadata address gets no second connection', async () => {
    stub = await startStub((_req, res) => json(res, 200, { ok: true }, { connection: 'close' }));
    const port = new URL(stub.origin).port;
    const answers = [['127.0.0.1'], ['169.254.169.254']];
    const asked: string[] = [];
    const egress = new EgressPolicy({
      target: stub.origin,
      resolve: async (host) => {
        asked.push(host);
        return (answers.shift() ?? ['169.254.169.254']).map((address) => ({ address, family: 4 as const }));
      },
    });
    http = new HttpRecorder({ allowedOrigins: [`http://rebind.test:${port}`], egress, timeoutMs: 1_000 });
    const hosts = connectSpy();
    const first = await http.request(`http://rebind.test:${port}/one`);
    expect(first.status).toBe(200);
    // The server closed the connection: the next request resolves again, and the new answer is refused.
    const second = await http.request(`http://rebind.test:${port}/two`).catch((e: unknown) => e);
    expect(second).toMatchObject({ kind: 'forbidden-address' });
    expect(hosts).toEqual(['127.0.0.1']);
    expect(asked).toEqual(['rebind.test', 'rebind.test']);
    // The Host header still names the host, not the address.
    expect(stub.requests[0]?.headers.host).toBe(`rebind.test:${port}`);
  });
});

describe('--allow-host', () => {
  it('is repeatable, takes names and IP addresses, and comes from the config file too', async () => {
    const { loadRunConfig } = await import('../../cli/config.ts');
    const { config } = loadRunConfig(['--allow-host', '10.0.0.5', '--allow-host', 'fd00::1,CI.internal']);
    expect(config.allowHosts).toEqual(['10.0.0.5', 'fd00::1', 'CI.internal']);
    expect(loadRunConfig([]).config.allowHosts).toEqual([]);
  });

  it.each(['http://10.0.0.5', '10.0.0.5:8080', 'host/path', 'user@host'])(
    'refuses %j with a sentence',
    async (bad) => {
      const { loadRunConfig, UsageError } = await import('../../cli/config.ts');
      expect(() => loadRunConfig(['--allow-host', bad])).toThrow(UsageError);
      expect(() => loadRunConfig(['--allow-host', bad])).toThrow(
        /--allow-host.*not a host name or IP address/s,
      );
    },
  );
});
