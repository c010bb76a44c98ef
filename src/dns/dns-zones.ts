/**
 * Snapshot → what the DNS responder answers, per VPC (spec §7.5): the generated name of every
 * service reachable from the VPC (VPC → its service-network association → the network's service
 * associations) and the custom domain names their owners mark to be served, each answering the
 * VPC's own ingress addresses. Built once per snapshot; a query is then one map lookup.
 */
import type { AssociationStatus, Service } from '../model/lattice-types.js';
import type { Owned, Snapshot } from '../model/snapshot-types.js';
import { canonicalIp, isIpv4, parseIpv6 } from '../model/validation/inventory-validation.js';
import { TYPE_A, TYPE_AAAA, encodeAnswerRecord } from './dns-wire.js';

/**
 * Service tag that asks Trellis to answer the service's custom domain name in DNS. A Trellis
 * convenience: Lattice leaves custom-domain DNS to the user (spec §7.4/§7.5), so without the tag
 * only the generated name is served.
 */
export const SERVE_DNS_TAG = 'trellis:serve-dns';

/** TTL of answers: short, so a changed association shows within a minute even in caching stubs. */
export const ANSWER_TTL_SECONDS = 60;

/** What a name answers inside one VPC: precomputed records per family. */
export class DnsAnswer {
  constructor(
    readonly a: readonly Buffer[],
    readonly aaaa: readonly Buffer[],
  ) {}
}

/** One VPC's view of the Lattice names. */
export class DnsVpcZone {
  constructor(
    readonly vpcId: string,
    readonly names: ReadonlyMap<string, DnsAnswer>,
  ) {}
}

/** The compiled answers of one snapshot. */
export interface DnsZones {
  readonly revision: number;
  readonly byVpc: ReadonlyMap<string, DnsVpcZone>;
  /** Ingress address (canonical text) → VPC id: the VPC a query arriving there comes from. */
  readonly vpcByAddress: ReadonlyMap<string, string>;
  /**
   * Every Lattice name known anywhere (generated names, served custom names). A name here that the
   * asking VPC cannot reach answers NXDOMAIN rather than being forwarded (spec §7.5).
   */
  readonly latticeNames: ReadonlySet<string>;
  /** Suffix of generated names (`.vpc-lattice-svcs.<region>.on.aws`): unknown ones are NXDOMAIN. */
  readonly latticeSuffix: string;
}

const LIVE: ReadonlySet<AssociationStatus> = new Set([
  'ACTIVE',
  'UPDATE_IN_PROGRESS',
  'UPDATE_FAILED',
  'DELETE_FAILED',
]);

/** Bytes of an IPv4 or IPv6 literal; undefined for anything else. */
export function ipBytes(text: string): Uint8Array | undefined {
  if (isIpv4(text)) return Uint8Array.from(text.split('.').map(Number));
  const groups = parseIpv6(text);
  if (groups === undefined) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** Canonical text of an address (so `::1` and `0:0::1` name the same VPC). */
export const canonicalAddress = canonicalIp;

function liveService(s: Owned<Service>): boolean {
  return s.status !== 'DELETE_IN_PROGRESS' && s.status !== 'CREATE_FAILED';
}

/** The names a service answers to in DNS: its generated name, and its custom one when marked. */
export function servedNames(service: Service): string[] {
  const names: string[] = [];
  if (service.dnsEntry?.domainName) names.push(service.dnsEntry.domainName.toLowerCase());
  if (service.customDomainName && service.tags?.[SERVE_DNS_TAG] === 'true')
    names.push(service.customDomainName.toLowerCase().replace(/\.$/, ''));
  return names;
}

/** Compiles a snapshot's DNS view. Never throws on inconsistent data: it is skipped. */
export function compileDnsZones(snapshot: Snapshot): DnsZones {
  const services = new Map<string, Owned<Service>>();
  const latticeNames = new Set<string>();
  for (const s of snapshot.services) {
    if (!liveService(s)) continue;
    services.set(s.id, s);
    for (const n of servedNames(s)) latticeNames.add(n);
  }
  const namesByNetwork = new Map<string, string[]>();
  for (const a of snapshot.serviceNetworkServiceAssociations) {
    if (!LIVE.has(a.status)) continue;
    const s = services.get(a.serviceId);
    if (s === undefined) continue;
    let list = namesByNetwork.get(a.serviceNetworkId);
    if (list === undefined) namesByNetwork.set(a.serviceNetworkId, (list = []));
    list.push(...servedNames(s));
  }
  const networksByVpc = new Map<string, string[]>();
  for (const a of snapshot.serviceNetworkVpcAssociations) {
    if (!LIVE.has(a.status)) continue;
    let list = networksByVpc.get(a.vpcId);
    if (list === undefined) networksByVpc.set(a.vpcId, (list = []));
    list.push(a.serviceNetworkId);
  }
  const byVpc = new Map<string, DnsVpcZone>();
  const vpcByAddress = new Map<string, string>();
  for (const vpc of snapshot.vpcs) {
    const a: Buffer[] = [];
    const aaaa: Buffer[] = [];
    for (const address of vpc.ingressAddresses) {
      const bytes = ipBytes(address);
      if (bytes === undefined) continue;
      vpcByAddress.set(canonicalAddress(address), vpc.vpcId);
      if (bytes.length === 4) a.push(encodeAnswerRecord(TYPE_A, ANSWER_TTL_SECONDS, bytes));
      else aaaa.push(encodeAnswerRecord(TYPE_AAAA, ANSWER_TTL_SECONDS, bytes));
    }
    // One answer object per VPC: every reachable name answers the same ingress addresses.
    const answer = new DnsAnswer(a, aaaa);
    const names = new Map<string, DnsAnswer>();
    for (const networkId of networksByVpc.get(vpc.vpcId) ?? [])
      for (const n of namesByNetwork.get(networkId) ?? []) names.set(n, answer);
    byVpc.set(vpc.vpcId, new DnsVpcZone(vpc.vpcId, names));
  }
  return {
    revision: snapshot.revision,
    byVpc,
    vpcByAddress,
    latticeNames,
    latticeSuffix: `.vpc-lattice-svcs.${snapshot.region}.on.aws`,
  };
}
