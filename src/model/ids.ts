/**
 * Identifier, ARN and DNS-name formats of VPC Lattice resources (spec §1.3).
 * Real IDs are a prefix plus 17 lowercase hex digits; we generate the same shape.
 */

/** Prefixes of every Lattice resource ID, keyed by the resource kind. */
export const ID_PREFIX = {
  'service-network': 'sn',
  service: 'svc',
  listener: 'listener',
  rule: 'rule',
  'target-group': 'tg',
  'service-network-service-association': 'snsa',
  'service-network-vpc-association': 'snva',
  'access-log-subscription': 'als',
} as const;

const HEX = '0123456789abcdef';

/** 17 random lowercase hex digits, the tail of every Lattice ID. Uses Web Crypto (no node: import). */
export function randomHex17(): string {
  const bytes = new Uint8Array(17);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (let i = 0; i < 17; i++) out += HEX[bytes[i]! & 15];
  return out;
}

/** A new ID such as `svc-0cfe1f49ff3266204`. */
export function newResourceId(prefix: string): string {
  return `${prefix}-${randomHex17()}`;
}

/** The ARN partition, region and account a resource is created in. */
export interface ArnScope {
  partition: string;
  region: string;
  accountId: string;
}

export function serviceNetworkArn(s: ArnScope, id: string): string {
  return `arn:${s.partition}:vpc-lattice:${s.region}:${s.accountId}:servicenetwork/${id}`;
}
export function serviceArn(s: ArnScope, id: string): string {
  return `arn:${s.partition}:vpc-lattice:${s.region}:${s.accountId}:service/${id}`;
}
export function listenerArn(s: ArnScope, serviceId: string, id: string): string {
  return `${serviceArn(s, serviceId)}/listener/${id}`;
}
export function ruleArn(s: ArnScope, serviceId: string, listenerId: string, id: string): string {
  return `${listenerArn(s, serviceId, listenerId)}/rule/${id}`;
}
export function targetGroupArn(s: ArnScope, id: string): string {
  return `arn:${s.partition}:vpc-lattice:${s.region}:${s.accountId}:targetgroup/${id}`;
}
export function serviceNetworkServiceAssociationArn(s: ArnScope, id: string): string {
  return `arn:${s.partition}:vpc-lattice:${s.region}:${s.accountId}:servicenetworkserviceassociation/${id}`;
}
export function serviceNetworkVpcAssociationArn(s: ArnScope, id: string): string {
  return `arn:${s.partition}:vpc-lattice:${s.region}:${s.accountId}:servicenetworkvpcassociation/${id}`;
}
export function accessLogSubscriptionArn(s: ArnScope, id: string): string {
  return `arn:${s.partition}:vpc-lattice:${s.region}:${s.accountId}:accesslogsubscription/${id}`;
}
export function vpcArn(s: ArnScope, vpcId: string): string {
  return `arn:${s.partition}:ec2:${s.region}:${s.accountId}:vpc/${vpcId}`;
}

/**
 * The opaque partition label in generated service DNS names. Lattice uses a short token that is
 * the same across accounts (observed `7d67968`, spec §1.5); we use one fixed token too.
 */
export const DNS_PARTITION_LABEL = '7d67968';

/** Generated DNS name `{name}-{id without svc-}.{label}.vpc-lattice-svcs.{region}.on.aws` (spec §1.5). */
export function serviceDnsName(serviceName: string, serviceId: string, region: string): string {
  const tail = serviceId.startsWith('svc-') ? serviceId.slice(4) : serviceId;
  return `${serviceName}-${tail}.${DNS_PARTITION_LABEL}.vpc-lattice-svcs.${region}.on.aws`;
}

/** Hosted zone id reported in `dnsEntry` (format unverified in the spec; a Route 53-like token). */
export function serviceHostedZoneId(region: string): string {
  let h = 0;
  for (const c of region) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `Z${h.toString(36).toUpperCase().padStart(12, '0').slice(0, 12)}`;
}

/** Parsed form of an ARN: `arn:partition:service:region:account:resource`. */
export interface ParsedArn {
  partition: string;
  service: string;
  region: string;
  accountId: string;
  resource: string;
}

/** Splits an ARN into its six fields; returns undefined for anything that is not an ARN. */
export function parseArn(arn: string): ParsedArn | undefined {
  if (!arn.startsWith('arn:')) return undefined;
  const parts = arn.split(':');
  if (parts.length < 6) return undefined;
  const [, partition, service, region, accountId] = parts as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (!partition || !service) return undefined;
  return { partition, service, region, accountId, resource: parts.slice(5).join(':') };
}

/**
 * The resource ID an identifier names: the identifier itself when it is a bare ID, else the last
 * `/`-separated segment of the ARN. Every `*Identifier` in the API accepts either (spec §1.1).
 */
export function idFromIdentifier(identifier: string): string {
  if (!identifier.startsWith('arn:')) return identifier;
  const slash = identifier.lastIndexOf('/');
  return slash >= 0 ? identifier.slice(slash + 1) : identifier;
}
