/**
 * Security groups at the ingress (spec §7.5 security layer 2; issue 8 §3): the inbound rules of
 * an SN–VPC association's groups decide which clients may connect at that VPC's ingress, before
 * any HTTP is read. Compiled per snapshot into sorted, merged address ranges per port range, so a
 * connection costs one parse of its address and a binary search per port range.
 */
import type { Server, Socket } from 'node:net';
import type { AssociationStatus } from '../model/lattice-types.js';
import type { SecurityGroup, SecurityGroupRule } from '../model/security-group-types.js';
import type { Snapshot } from '../model/snapshot-types.js';

/** Rules sharing one listener-port range: the client addresses they admit. */
class PortRangeRule {
  constructor(
    readonly fromPort: number,
    readonly toPort: number,
    /** Sorted, disjoint, merged [start, end] pairs of IPv4 addresses as numbers. */
    readonly v4: Float64Array,
    /** Sorted, disjoint, merged [start, end] pairs of IPv6 addresses. */
    readonly v6: readonly bigint[],
    /** Exact addresses of source-group members (canonical text). */
    readonly members: ReadonlySet<string>,
  ) {}
}

/** The compiled inbound rules of one VPC's association. */
export class SecurityGroupGate {
  constructor(
    readonly vpcId: string,
    readonly securityGroupIds: readonly string[],
    private readonly rules: readonly PortRangeRule[],
  ) {}

  /** True when some inbound rule admits a client at `address` connecting to listener `port`. */
  allows(address: string | undefined, port: number): boolean {
    if (address === undefined) return false;
    const text =
      address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
    const v4 = parseV4(text);
    const v6 = v4 === undefined ? parseV6(text) : undefined;
    let canonical: string | undefined;
    for (const r of this.rules) {
      if (port < r.fromPort || port > r.toPort) continue;
      if (v4 !== undefined ? inRanges(r.v4, v4) : v6 !== undefined && inBigRanges(r.v6, v6))
        return true;
      if (r.members.size > 0) {
        canonical ??= canonicalText(v4, v6, text);
        if (r.members.has(canonical)) return true;
      }
    }
    return false;
  }
}

/** What `guardConnections` needs of a listener: its port and its VPC's current gate. */
export interface GuardedListener {
  readonly port: number;
  readonly vpcId: string;
  securityGroups: SecurityGroupGate | undefined;
}

type ConnectionListener = (this: Server, socket: Socket) => void;

/**
 * Puts the security-group check in front of every other `connection` listener of `server` (the
 * HTTP parser, the fast path, a TLS handshake): a client the listener's current gate refuses is
 * destroyed before a byte of it is read (issue 8 §3), with one log line. Call it after everything
 * else has attached its listeners; a listener without a gate is not checked.
 */
export function guardConnections(
  server: Server,
  listener: GuardedListener,
  logger: { warn(message: string, fields?: Record<string, unknown>): void },
): void {
  const inner = server.listeners('connection') as ConnectionListener[];
  server.removeAllListeners('connection');
  server.on('connection', function guarded(this: Server, socket: Socket) {
    const gate = listener.securityGroups;
    if (gate !== undefined && !gate.allows(socket.remoteAddress, listener.port)) {
      logger.warn('connection refused by security groups', {
        vpcId: listener.vpcId,
        securityGroupIds: gate.securityGroupIds,
        client: `${socket.remoteAddress}:${socket.remotePort}`,
        port: listener.port,
      });
      socket.destroy();
      return;
    }
    for (const f of inner) f.call(this, socket);
  });
}

const LIVE: ReadonlySet<AssociationStatus> = new Set([
  'ACTIVE',
  'UPDATE_IN_PROGRESS',
  'UPDATE_FAILED',
  'DELETE_FAILED',
]);

/**
 * VPC id → gate, for the VPCs whose live SN–VPC association has security groups. A VPC without
 * one is absent: its clients are not filtered (spec §1.5: security groups are optional). A group
 * id that is not in the snapshot contributes no rules (deny rather than open).
 */
export function compileSecurityGroupGates(
  snapshot: Snapshot & { readonly securityGroups?: readonly SecurityGroup[] },
): Map<string, SecurityGroupGate> {
  const gates = new Map<string, SecurityGroupGate>();
  const groups = new Map((snapshot.securityGroups ?? []).map((g) => [g.groupId, g]));
  for (const a of snapshot.serviceNetworkVpcAssociations) {
    const ids = a.securityGroupIds ?? [];
    if (!LIVE.has(a.status) || ids.length === 0) continue;
    const rules: SecurityGroupRule[] = [];
    for (const id of ids) {
      const g = groups.get(id);
      if (g !== undefined && g.vpcId === a.vpcId) rules.push(...g.inboundRules);
    }
    gates.set(a.vpcId, new SecurityGroupGate(a.vpcId, ids, compileRules(rules, groups)));
  }
  return gates;
}

function compileRules(
  rules: readonly SecurityGroupRule[],
  groups: ReadonlyMap<string, SecurityGroup>,
): PortRangeRule[] {
  const byPorts = new Map<
    string,
    {
      from: number;
      to: number;
      v4: [number, number][];
      v6: [bigint, bigint][];
      members: Set<string>;
    }
  >();
  for (const r of rules) {
    const from = r.protocol === '-1' ? 0 : r.fromPort;
    const to = r.protocol === '-1' ? 65535 : r.toPort;
    const key = `${from}-${to}`;
    let e = byPorts.get(key);
    if (e === undefined) byPorts.set(key, (e = { from, to, v4: [], v6: [], members: new Set() }));
    if (r.cidrIpv4 !== undefined) {
      const range = v4Range(r.cidrIpv4);
      if (range) e.v4.push(range);
    } else if (r.cidrIpv6 !== undefined) {
      const range = v6Range(r.cidrIpv6);
      if (range) e.v6.push(range);
    } else if (r.sourceSecurityGroupId !== undefined) {
      for (const m of groups.get(r.sourceSecurityGroupId)?.memberAddresses ?? []) {
        const v4 = parseV4(m);
        const v6 = v4 === undefined ? parseV6(m) : undefined;
        e.members.add(canonicalText(v4, v6, m));
      }
    }
  }
  return [...byPorts.values()].map(
    (e) =>
      new PortRangeRule(
        e.from,
        e.to,
        Float64Array.from(merge(e.v4).flat()),
        mergeBig(e.v6).flat(),
        e.members,
      ),
  );
}

/** Sorts ranges and joins overlapping or adjacent ones. */
function merge(ranges: [number, number][]): [number, number][] {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last !== undefined && last[1] + 1 >= r[0]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

function mergeBig(ranges: [bigint, bigint][]): [bigint, bigint][] {
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last !== undefined && last[1] + 1n >= r[0]) last[1] = last[1] > r[1] ? last[1] : r[1];
    else out.push([r[0], r[1]]);
  }
  return out;
}

function inRanges(ranges: Float64Array, x: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (x < ranges[mid * 2]!) hi = mid - 1;
    else if (x > ranges[mid * 2 + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

function inBigRanges(ranges: readonly bigint[], x: bigint): boolean {
  for (let i = 0; i < ranges.length; i += 2)
    if (x >= ranges[i]! && x <= ranges[i + 1]!) return true;
  return false;
}

function parseV4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

function parseV6(text: string): bigint | undefined {
  if (!text.includes(':')) return undefined;
  const zone = text.indexOf('%');
  const t = zone >= 0 ? text.slice(0, zone) : text;
  let head = t;
  const tail: number[] = [];
  const last = t.slice(t.lastIndexOf(':') + 1);
  if (last.includes('.')) {
    const v4 = parseV4(last);
    if (v4 === undefined) return undefined;
    tail.push(Math.floor(v4 / 65536), v4 % 65536);
    head = t.slice(0, t.length - last.length);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (!left || !right) return undefined;
  const n = left.length + right.length + tail.length;
  if (halves.length === 2 ? n > 7 : n !== 8) return undefined;
  let out = 0n;
  for (const g of [...left, ...new Array<number>(8 - n).fill(0), ...right, ...tail])
    out = (out << 16n) | BigInt(g);
  return out;
}

function canonicalText(v4: number | undefined, v6: bigint | undefined, text: string): string {
  if (v4 !== undefined) return String(v4);
  if (v6 !== undefined) return `6:${v6.toString(16)}`;
  return text;
}

function v4Range(cidr: string): [number, number] | undefined {
  const [addr, bitsText] = cidr.split('/');
  const base = parseV4(addr ?? '');
  const bits = Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  const start = Math.floor(base / size) * size;
  return [start, start + size - 1];
}

function v6Range(cidr: string): [bigint, bigint] | undefined {
  const [addr, bitsText] = cidr.split('/');
  const base = parseV6(addr ?? '');
  const bits = Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 128) return undefined;
  const hostBits = BigInt(128 - bits);
  const start = (base >> hostBits) << hostBits;
  return [start, start + (1n << hostBits) - 1n];
}
