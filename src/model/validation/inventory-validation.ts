/**
 * Formats of the inventory Trellis keeps beside the Lattice resources (VPCs, instances, load
 * balancers) and of the IP literals targets and ingress addresses use. Pure functions, no `node:`
 * imports (the console shares them).
 */

import type { FieldViolation } from './field-rules.js';

/** `vpc-` + 8 or 17 characters (spec §1.5 SNVA: "vpc- + 8 or 17 chars"). */
export const VPC_ID_PATTERN = /^vpc-(?:[0-9a-z]{8}|[0-9a-z]{17})$/;
/** EC2 instance ids: `i-` + 8 or 17 hex characters. */
export const INSTANCE_ID_PATTERN = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/** Security group ids: `sg-` + 8 or 17 characters (spec §1.5 SNVA). */
export const SECURITY_GROUP_ID_PATTERN = /^sg-(?:[0-9a-z]{8}|[0-9a-z]{17})$/;
/** Application load balancer names: 1–32 alphanumerics and hyphens, no hyphen at either end. */
export const LOAD_BALANCER_NAME_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$/;
/** ALB ARN: `arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/{16 hex}`. */
export const LOAD_BALANCER_ARN_PATTERN =
  /^arn:[a-z0-9-]+:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/(?:app|net)\/[a-zA-Z0-9-]{1,32}\/[0-9a-f]{16}$/;

/**
 * `ip netns` names Trellis accepts: 1–64 letters, digits, `.`, `_`, `-`, starting with a letter or
 * digit (so never `.`, `..` or something `ip` would read as an option).
 */
export const NETWORK_NAMESPACE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const IPV4_OCTET = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** True for a dotted-quad IPv4 literal without leading zeros (`10.0.0.1`). */
export function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => IPV4_OCTET.test(p));
}

/**
 * Parses an IPv6 literal (with `::` compression and an optional dotted IPv4 tail) into its eight
 * 16-bit groups; undefined when it is not one. Zone ids (`%eth0`) are not accepted.
 */
export function parseIpv6(text: string): number[] | undefined {
  if (!text.includes(':') || text.length > 45) return undefined;
  let head = text;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    if (!isIpv4(last)) return undefined;
    const o = last.split('.').map(Number) as [number, number, number, number];
    tail.push((o[0] << 8) | o[1], (o[2] << 8) | o[3]);
    // Keep a `::` that precedes the IPv4 tail; drop a single separating colon.
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const group = /^[0-9a-fA-F]{1,4}$/;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!group.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parse(halves[0]!);
  const right = halves.length === 2 ? parse(halves[1]!) : [];
  if (!left || !right) return undefined;
  const count = left.length + right.length + tail.length;
  if (halves.length === 2) {
    if (count > 7) return undefined;
    return [...left, ...new Array<number>(8 - count).fill(0), ...right, ...tail];
  }
  if (count !== 8) return undefined;
  return [...left, ...tail];
}

export function isIpv6(text: string): boolean {
  return parseIpv6(text) !== undefined;
}

/** The family of an IP literal, or undefined when the text is not one. */
export function ipFamily(text: string): 'IPV4' | 'IPV6' | undefined {
  if (isIpv4(text)) return 'IPV4';
  if (isIpv6(text)) return 'IPV6';
  return undefined;
}

/**
 * A canonical spelling of an IP literal (lowercase, fully expanded IPv6 groups without leading
 * zeros), so `::1` and `0:0:0:0:0:0:0:1` compare equal; the text itself when it is not an IP.
 */
export function canonicalIp(text: string): string {
  if (isIpv4(text)) return text;
  const groups = parseIpv6(text);
  return groups ? groups.map((g) => g.toString(16)).join(':') : text;
}

/** True for `a.b.c.d/n` (n 0–32) or an IPv6 prefix `x::/n` (n 0–128). */
export function isCidr(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash < 0) return false;
  const address = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  const n = Number(bits);
  if (isIpv4(address)) return n <= 32;
  if (isIpv6(address)) return n <= 128;
  return false;
}

/** Checks a list of IP literals; `min` entries at least. */
export function checkIpList(
  out: FieldViolation[],
  field: string,
  value: unknown,
  min: number,
  max: number,
): void {
  if (value === undefined) {
    if (min > 0) out.push({ name: field, message: 'is required' });
    return;
  }
  if (!Array.isArray(value) || value.length < min || value.length > max) {
    out.push({ name: field, message: `must be a list of ${min} to ${max} IP addresses` });
    return;
  }
  value.forEach((v, i) => {
    if (typeof v !== 'string' || !ipFamily(v)) {
      out.push({ name: `${field}[${i}]`, message: 'must be an IPv4 or IPv6 address literal' });
    }
  });
}
