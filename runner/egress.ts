// The egress policy: which hosts the runner may open a connection to (DESIGN.md §Evidence,
// redaction and safety; docs/decisions.md "Egress policy"). The one place that owns the rule.
//
// A conformance run follows URLs the target hands it (authorization servers, metadata URLs,
// endpoints, redirects), so a hostile target could aim the runner at what sits next to it: the
// cloud's credential endpoint, the CI machine's own services, a private network. The rule:
//
// - Never: link-local addresses (169.254.0.0/16, fe80::/10), cloud metadata services (by address
//   and by name, see CLOUD_METADATA_*), unspecified, multicast and broadcast addresses. Whatever
//   the target or the operator says.
// - Only when the target itself is in that class, or the operator names the host
//   (`--allow-host HOST`): loopback, private (RFC 1918, carrier-grade NAT), unique-local (fc00::/7)
//   and the other special-purpose ranges (documentation, benchmarking, reserved).
// - Anything else (public unicast): allowed. Which origins are visited at all is decided before
//   this, by HttpRecorder's origin list (the target and the servers its metadata names).
//
// Names are checked before they are resolved (a cloud metadata name never reaches DNS), then every
// address they resolve to is checked, and the connection is made to the checked address itself
// (`connectAddress`), so a name cannot resolve to one address for the check and another for the
// connection (DNS rebinding).

import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** What an address is, as far as the policy cares. */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'unique-local'
  | 'special-purpose'
  | 'link-local'
  | 'cloud-metadata'
  | 'unspecified'
  | 'multicast';

/** Classes never contacted, whatever the target's class or --allow-host. */
const NEVER: ReadonlySet<AddressClass> = new Set([
  'link-local',
  'cloud-metadata',
  'unspecified',
  'multicast',
]);
/** Classes contacted only when the target is in the same class or the operator names the host. */
const RESTRICTED: ReadonlySet<AddressClass> = new Set([
  'loopback',
  'private',
  'unique-local',
  'special-purpose',
]);

/**
 * Cloud instance-metadata and credential services by address: AWS IMDS (IPv4 and IPv6), ECS task
 * credentials, EKS Pod Identity, GCP/Azure/OCI/DigitalOcean/OpenStack (169.254.169.254), Azure
 * WireServer, Alibaba Cloud, Oracle Cloud Classic. The IPv4 link-local ones are refused as
 * link-local anyway; they are listed so the refusal names them for what they are.
 */
export const CLOUD_METADATA_ADDRESSES: readonly string[] = [
  '169.254.169.254',
  '169.254.170.2',
  '169.254.170.23',
  'fd00:ec2::254',
  'fd00:ec2::23',
  '168.63.129.16',
  '100.100.100.200',
  '192.0.0.192',
];

/** Cloud metadata services by name (refused before any DNS query). Compared without a trailing dot. */
export const CLOUD_METADATA_NAMES: readonly string[] = [
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.com',
  'metadata.azure.internal',
  'metadata.tencentyun.com',
  'metadata.platformequinix.com',
  'metadata.packet.net',
];

const METADATA_ADDRESSES = new Set(CLOUD_METADATA_ADDRESSES.map((a) => ipaddr.parse(a).toNormalizedString()));

/** The class of an IP address (IPv4-mapped, NAT64 and 6to4 IPv6 addresses are judged by the IPv4 inside). */
export function classifyAddress(address: string): AddressClass {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(stripBrackets(address).replace(/%.*$/, ''));
  } catch {
    return 'unspecified';
  }
  if (METADATA_ADDRESSES.has(ip.toNormalizedString())) return 'cloud-metadata';
  if (ip.kind() === 'ipv6') {
    const embedded = embeddedIPv4(ip as ipaddr.IPv6);
    if (embedded) return classifyAddress(embedded.toString());
  }
  // A string: the typings lag behind the ranges the library knows (deprecatedSiteLocal).
  const range: string = ip.range();
  switch (range) {
    case 'unicast':
      return 'public';
    case 'loopback':
      return 'loopback';
    case 'private':
    case 'carrierGradeNat':
    case 'deprecatedSiteLocal':
      return 'private';
    case 'uniqueLocal':
      return 'unique-local';
    case 'linkLocal':
      return 'link-local';
    case 'unspecified':
      return 'unspecified';
    case 'multicast':
    case 'broadcast':
      return 'multicast';
    default:
      // reserved, documentation, benchmarking, as112, amt, orchid, discard, teredo...
      return 'special-purpose';
  }
}

/** The IPv4 address inside an IPv4-mapped (::ffff:0:0/96), NAT64 (RFC 6052) or 6to4 (2002::/16) address. */
function embeddedIPv4(ip: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range: string = ip.range();
  const bytes = ip.toByteArray();
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052') {
    return new ipaddr.IPv4(bytes.slice(12, 16));
  }
  if (range === '6to4') return new ipaddr.IPv4(bytes.slice(2, 6));
  return undefined;
}

/** What each class means, for refusal messages. */
const CLASS_WORDS: Record<AddressClass, string> = {
  public: 'a public address',
  loopback: 'a loopback address',
  private: 'a private address (RFC 1918 / carrier-grade NAT)',
  'unique-local': 'a unique-local IPv6 address (fc00::/7)',
  'special-purpose': 'a special-purpose address (documentation, benchmarking or reserved range)',
  'link-local': 'a link-local address (169.254.0.0/16, fe80::/10)',
  'cloud-metadata': 'a cloud metadata service',
  unspecified: 'an unspecified or invalid address',
  multicast: 'a multicast or broadcast address',
};

/** The runner refused to contact a host: a finding, reported with the host, the class and the remedy. */
export class EgressRefused extends Error {
  constructor(
    readonly host: string,
    readonly addressClass: AddressClass,
    /** The resolved address that decided, when the host is a name. */
    readonly address: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'EgressRefused';
  }
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface EgressPolicyOptions {
  /** The target URL: restricted classes its host resolves to are open to every host. */
  target?: string;
  /** Hosts the operator allows into restricted classes (--allow-host): names or IP literals. */
  allowHosts?: readonly string[];
  /** DNS resolution (tests pass a spy); default: the system resolver, every address. */
  resolve?: Resolver;
}

const systemResolve: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

export class EgressPolicy {
  private readonly allowHosts: ReadonlySet<string>;
  private readonly resolver: Resolver;
  private readonly targetHost: string | undefined;
  private targetClasses: Promise<ReadonlySet<AddressClass>> | undefined;

  constructor(private readonly options: EgressPolicyOptions = {}) {
    this.allowHosts = new Set((options.allowHosts ?? []).map(normalizeHost));
    this.resolver = options.resolve ?? systemResolve;
    this.targetHost =
      options.target && URL.canParse(options.target)
        ? normalizeHost(new URL(options.target).hostname)
        : undefined;
  }

  /** The restricted classes the target is in (resolved once). */
  openClasses(): Promise<ReadonlySet<AddressClass>> {
    this.targetClasses ??= (async () => {
      const host = this.targetHost;
      if (host === undefined || isMetadataName(host)) return new Set<AddressClass>();
      try {
        const addresses = isIP(host) ? [host] : (await this.resolver(host)).map((a) => a.address);
        return new Set(addresses.map(classifyAddress).filter((c) => RESTRICTED.has(c)));
      } catch {
        return new Set<AddressClass>();
      }
    })();
    return this.targetClasses;
  }

  /**
   * Resolves `hostname` (a URL hostname, IPv6 in brackets or not) and checks every address it
   * resolves to. Resolves with the checked addresses (connect to one of these, never to the name);
   * throws EgressRefused, before any packet for a metadata name or a refused literal.
   */
  async check(hostname: string): Promise<ResolvedAddress[]> {
    const host = normalizeHost(hostname);
    if (isMetadataName(host)) {
      throw new EgressRefused(
        host,
        'cloud-metadata',
        undefined,
        `refused to contact ${host}: it names a cloud metadata service, which the runner never contacts (not even with --allow-host)`,
      );
    }
    const literal = isIP(host);
    const addresses: ResolvedAddress[] = literal
      ? [{ address: host, family: literal === 6 ? 6 : 4 }]
      : await this.resolver(host);
    if (addresses.length === 0) throw new Error(`${host} resolved to no address`);
    const open = await this.openClasses();
    for (const { address } of addresses) {
      const cls = classifyAddress(address);
      const via = literal ? '' : ` (${host} resolves to ${address})`;
      if (NEVER.has(cls)) {
        throw new EgressRefused(
          host,
          cls,
          literal ? undefined : address,
          `refused to contact ${host}${via}: ${CLASS_WORDS[cls]}, which the runner never contacts (not even with --allow-host)`,
        );
      }
      if (RESTRICTED.has(cls) && !open.has(cls) && !this.allowHosts.has(host)) {
        throw new EgressRefused(
          host,
          cls,
          literal ? undefined : address,
          `refused to contact ${host}${via}: ${CLASS_WORDS[cls]}, and the target ${this.targetHost ?? ''} is not in that class; pass --allow-host ${host} to allow it`,
        );
      }
    }
    return addresses;
  }

  /** For the report: what the policy opens beyond public addresses. */
  async describe(): Promise<{ openClasses: AddressClass[]; allowHosts: string[] }> {
    return { openClasses: [...(await this.openClasses())].sort(), allowHosts: [...this.allowHosts].sort() };
  }
}

function isMetadataName(host: string): boolean {
  return CLOUD_METADATA_NAMES.includes(host);
}

/** Lower case, no trailing dot, no IPv6 brackets; IP literals in their canonical form. */
export function normalizeHost(host: string): string {
  const bare = stripBrackets(host.trim().toLowerCase()).replace(/\.$/, '');
  if (isIP(bare)) {
    try {
      return ipaddr.parse(bare).toString();
    } catch {
      return bare;
    }
  }
  return bare;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
