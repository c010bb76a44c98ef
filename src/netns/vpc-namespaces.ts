/**
 * Namespace VPCs (issue 8 §1, docs/multi-vpc.md "VPCs as network namespaces"): for every VPC
 * that is a Linux network namespace, a veth pair joins the namespace to the host and policy
 * routing keeps the namespaces apart, so the data plane (one process, in the host namespace)
 * serves them all without a process per VPC:
 *
 *   namespace side  lattice0: fe80::2; routes 169.254.171.N/32 and fd00:ec2:80::N → host side
 *   host side       tlatN: 169.254.171.N, fd00:ec2:80::N, fe80::1 — the VPC's Lattice addresses
 *   host routing    rule "from 169.254.171.N / fd00:ec2:80::N lookup table 31000+N", whose
 *                   default route is tlatN: a connection the data plane opens from the VPC's
 *                   Lattice address goes into that namespace, whatever its destination.
 *
 * Clients in the namespace connect to the Lattice address (the data plane listens there and knows
 * the VPC by it, as for any ingress address); targets of the VPC are reached by connecting from
 * it. Two namespaces can hold the same 10.0.0.10: the source address picks the table.
 * Everything is done with iproute2 (`ip`), which needs root (CAP_NET_ADMIN).
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Vpc } from '../model/inventory-types.js';
import { ip, ipBatch } from './ip-command.js';
import { defaultSlotDir, LatticeSlots, type SlotRecord } from './lattice-slots.js';

export interface NetnsLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface VpcNamespacesOptions {
  logger: NetnsLogger;
  /** Folder of the host-wide slot claims (default /run/trellis/lattice-slots). */
  slotDir?: string;
  /** How often links are checked and failed attachments retried (default 1 s). */
  checkIntervalMs?: number;
}

/** The namespace side's interface; one per namespace, so the name can be fixed. */
export const NAMESPACE_LINK = 'lattice0';
const TABLE_BASE = 31000;
/** Attachments set up at once (each is a handful of short `ip` runs). */
const ATTACH_CONCURRENCY = 8;
const NETNS_DIR = '/run/netns';
const ETC_NETNS = '/etc/netns';

/** The Lattice addresses of slot N (spec §7.5: 169.254.171.0/24 and fd00:ec2:80::/64). */
export function latticeAddresses(slot: number): { ipv4: string; ipv6: string } {
  return { ipv4: `169.254.171.${slot}`, ipv6: `fd00:ec2:80::${slot.toString(16)}` };
}

class Attachment {
  readonly ipv4: string;
  readonly ipv6Candidate: string;
  /** Set when IPv6 works in the namespace. */
  ipv6: string | undefined;
  readonly hostLink: string;
  readonly table: number;
  /** False while the namespace or its link is gone (being restored). */
  up = true;
  createdNamespace = false;
  wroteResolvConf = false;
  constructor(
    readonly vpcId: string,
    readonly namespace: string,
    readonly create: boolean,
    readonly routerAddress: string | undefined,
    readonly slot: number,
  ) {
    const a = latticeAddresses(slot);
    this.ipv4 = a.ipv4;
    this.ipv6Candidate = a.ipv6;
    this.hostLink = `tlat${slot}`;
    this.table = TABLE_BASE + slot;
  }

  record(): SlotRecord {
    return {
      pid: process.pid,
      vpcId: this.vpcId,
      namespace: this.namespace,
      createdNamespace: this.createdNamespace,
      wroteResolvConf: this.wroteResolvConf,
    };
  }
}

/**
 * Keeps the host's namespace plumbing in step with the VPCs of the snapshots it is given. One
 * operation runs at a time (reconcile, the periodic check, stop). A VPC whose namespace cannot be
 * attached (not root, namespace missing, `ip` failing) stays without addresses and is retried;
 * the others are unaffected.
 */
export class VpcNamespaces {
  private readonly logger: NetnsLogger;
  private readonly slots: LatticeSlots;
  private readonly attached = new Map<string, Attachment>();
  /** Namespace VPCs of the latest snapshot. */
  private desired = new Map<string, Vpc>();
  /** Why a desired VPC is not attached (logged once per distinct reason). */
  private readonly failures = new Map<string, string>();
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly checkIntervalMs: number;
  /** Called when attachments change outside `reconcile` (a retry succeeded). */
  onChange: (() => void) | undefined;

  constructor(options: VpcNamespacesOptions) {
    this.logger = options.logger;
    this.slots = new LatticeSlots(options.slotDir ?? defaultSlotDir());
    this.checkIntervalMs = options.checkIntervalMs ?? 1000;
  }

  /** True when this process may set up namespaces. */
  static canManage(): boolean {
    return process.getuid?.() === 0;
  }

  /** Cleans up after Trellis processes that died holding slots, then starts the checks. */
  async start(): Promise<void> {
    this.stopped = false;
    if (VpcNamespaces.canManage()) await this.serialized(() => this.sweepStale());
    this.timer = setInterval(() => void this.serialized(() => this.check()), this.checkIntervalMs);
    this.timer.unref();
  }

  /** The Lattice addresses of an attached VPC (IPv4 first); empty when it is not attached. */
  addresses(vpcId: string): string[] {
    const a = this.attached.get(vpcId);
    if (a === undefined) return [];
    return a.ipv6 === undefined ? [a.ipv4] : [a.ipv4, a.ipv6];
  }

  /** The namespace an attached VPC lives in, with its addresses (for runtime.json, logs). */
  list(): { vpcId: string; namespace: string; addresses: string[]; up: boolean }[] {
    return [...this.attached.values()].map((a) => ({
      vpcId: a.vpcId,
      namespace: a.namespace,
      addresses: this.addresses(a.vpcId),
      up: a.up,
    }));
  }

  /** Attaches new namespace VPCs and detaches removed ones. */
  reconcile(vpcs: readonly Vpc[]): Promise<void> {
    const desired = new Map<string, Vpc>();
    for (const v of vpcs) if (v.networkNamespace !== undefined) desired.set(v.vpcId, v);
    return this.serialized(async () => {
      // A snapshot still queued when Trellis stops must not attach anything after the clean-up.
      if (this.stopped) return;
      this.desired = desired;
      for (const [vpcId, a] of [...this.attached]) {
        if (desired.has(vpcId)) continue;
        this.attached.delete(vpcId);
        await this.detach(a);
        this.logger.info('network namespace VPC detached', {
          vpcId,
          namespace: a.namespace,
          deletedNamespace: a.createdNamespace,
        });
      }
      for (const vpcId of [...this.failures.keys()])
        if (!desired.has(vpcId)) this.failures.delete(vpcId);
      // Several at a time: a restart with many namespace VPCs attaches them all before the data
      // plane gets its first snapshot. Each attachment touches only its own slot's links/rules.
      const pending = [...desired.values()].filter((v) => !this.attached.has(v.vpcId));
      const next = async (): Promise<void> => {
        for (let vpc = pending.shift(); vpc !== undefined; vpc = pending.shift())
          if (!this.stopped) await this.tryAttach(vpc);
      };
      await Promise.all(Array.from({ length: Math.min(ATTACH_CONCURRENCY, pending.length) }, next));
    });
  }

  /** Undoes every attachment: veths, rules, namespaces Trellis created (never the user's). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.serialized(async () => {
      const all = [...this.attached.values()];
      this.attached.clear();
      this.desired.clear();
      await Promise.all(all.map((a) => this.detach(a)));
      if (all.length > 0)
        this.logger.info('network namespace VPCs detached', {
          count: all.length,
          deletedNamespaces: all.filter((a) => a.createdNamespace).map((a) => a.namespace),
        });
    });
  }

  private serialized(work: () => Promise<void>): Promise<void> {
    const next = this.chain.then(work).catch((err: unknown) => {
      this.logger.error('network namespace operation failed', { error: (err as Error).message });
    });
    this.chain = next;
    return next;
  }

  private fail(vpc: Vpc, reason: string, fields: Record<string, unknown> = {}): void {
    if (this.failures.get(vpc.vpcId) === reason) return;
    this.failures.set(vpc.vpcId, reason);
    this.logger.error('network namespace VPC not attached', {
      vpcId: vpc.vpcId,
      namespace: vpc.networkNamespace?.name,
      reason,
      ...fields,
    });
  }

  private async tryAttach(vpc: Vpc): Promise<boolean> {
    const ns = vpc.networkNamespace!;
    if (!VpcNamespaces.canManage()) {
      this.fail(
        vpc,
        'network-namespace VPCs need root (CAP_NET_ADMIN to create namespaces, veth pairs and routes); ' +
          'run trellis up as root, or give the VPC --ingress-addresses instead. Ingress-address VPCs keep working.',
      );
      return false;
    }
    const exists = existsSync(join(NETNS_DIR, ns.name));
    if (!ns.create && !exists) {
      this.fail(
        vpc,
        `network namespace ${ns.name} does not exist; create it (ip netns add ${ns.name}) and Trellis attaches it`,
      );
      return false;
    }
    const draft = new Attachment(vpc.vpcId, ns.name, ns.create, routerAddress(vpc), 0);
    const slot = this.slots.claim(draft.record());
    if (slot === undefined) {
      this.fail(vpc, 'all 254 Lattice addresses of 169.254.171.0/24 are in use on this host');
      return false;
    }
    const a = new Attachment(vpc.vpcId, ns.name, ns.create, routerAddress(vpc), slot);
    if (ns.create) {
      if (!exists) {
        const made = await ip(['netns', 'add', ns.name]);
        if (!made.ok) {
          this.slots.release(slot);
          this.fail(vpc, `cannot create network namespace ${ns.name}: ${made.stderr}`);
          return false;
        }
      } else {
        this.logger.info('network namespace exists already; Trellis adopts it', {
          vpcId: vpc.vpcId,
          namespace: ns.name,
        });
      }
      a.createdNamespace = true;
      this.slots.update(slot, a.record());
    }
    const error = await this.plumb(a);
    if (error !== undefined) {
      await this.detach(a);
      this.fail(vpc, error);
      return false;
    }
    this.writeResolvConf(a);
    this.slots.update(slot, a.record());
    this.attached.set(vpc.vpcId, a);
    this.failures.delete(vpc.vpcId);
    this.logger.info('network namespace VPC attached', {
      vpcId: vpc.vpcId,
      namespace: a.namespace,
      latticeAddresses: this.addresses(vpc.vpcId),
      created: a.createdNamespace,
    });
    return true;
  }

  /** The veth pair, addresses, routes and rule of one attachment; an error text on failure. */
  private async plumb(a: Attachment): Promise<string | undefined> {
    const t = String(a.table);
    const link = a.hostLink;
    // Leftovers of an earlier attachment of this slot or namespace ("not found" is expected).
    await Promise.all([
      ipBatch([], [`link del ${link}`, `rule del pref ${t}`], true),
      ipBatch(['-6'], [`rule del pref ${t}`], true),
      ipBatch(['-n', a.namespace], [`link del ${NAMESPACE_LINK}`], true),
    ]);
    const host = await ipBatch(
      [],
      [
        `link add ${link} type veth peer name ${NAMESPACE_LINK} netns ${a.namespace}`,
        `addr add ${a.ipv4}/32 dev ${link}`,
        `link set ${link} up`,
        `route replace default dev ${link} table ${t}`,
        `rule add from ${a.ipv4} lookup ${t} pref ${t}`,
      ],
    );
    if (!host.ok) return `cannot set up veth ${link}: ${host.stderr}`;
    // Replies to namespace clients come back on tlatN; reverse-path checks must not drop them.
    writeSysctl(`/proc/sys/net/ipv4/conf/${link}/rp_filter`, '0');
    const inside = await ipBatch(
      ['-n', a.namespace],
      [
        'link set lo up',
        `link set ${NAMESPACE_LINK} up`,
        `route replace ${a.ipv4}/32 dev ${NAMESPACE_LINK}`,
        ...(a.routerAddress !== undefined
          ? [`addr replace ${a.routerAddress}/32 dev ${NAMESPACE_LINK}`]
          : []),
      ],
    );
    if (!inside.ok) return `cannot set up ${NAMESPACE_LINK} in ${a.namespace}: ${inside.stderr}`;
    // IPv6 where it works: fixed link-local next hops (no neighbour discovery of lo addresses).
    const v6 = await ipBatch(
      ['-6'],
      [
        `addr add fe80::1/64 dev ${link} nodad`,
        `addr add ${a.ipv6Candidate}/128 dev ${link} nodad`,
        `route replace default via fe80::2 dev ${link} table ${t}`,
        `rule add from ${a.ipv6Candidate} lookup ${t} pref ${t}`,
      ],
    );
    const v6inside =
      v6.ok &&
      (await ipBatch(
        ['-n', a.namespace, '-6'],
        [
          `addr add fe80::2/64 dev ${NAMESPACE_LINK} nodad`,
          `route replace ${a.ipv6Candidate}/128 via fe80::1 dev ${NAMESPACE_LINK}`,
        ],
      ));
    if (v6inside !== false && v6inside.ok) a.ipv6 = a.ipv6Candidate;
    else {
      a.ipv6 = undefined;
      this.logger.info('IPv6 is not available for this namespace VPC; IPv4 only', {
        vpcId: a.vpcId,
        namespace: a.namespace,
        error: v6inside === false ? v6.stderr : v6inside.stderr,
      });
    }
    return undefined;
  }

  /** /etc/netns/<ns>/resolv.conf → the Lattice address: `ip netns exec` programs resolve by it. */
  private writeResolvConf(a: Attachment): void {
    const dir = join(ETC_NETNS, a.namespace);
    const file = join(dir, 'resolv.conf');
    if (!a.createdNamespace && existsSync(file)) return; // the user's own resolver setup
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        file,
        `# Written by Trellis: the Lattice DNS of ${a.vpcId} (removed when Trellis stops)\nnameserver ${a.ipv4}\n`,
      );
      a.wroteResolvConf = true;
    } catch (err) {
      this.logger.warn('cannot write the namespace resolv.conf', {
        namespace: a.namespace,
        error: (err as Error).message,
      });
    }
  }

  private async detach(a: Attachment): Promise<void> {
    await undo(a.hostLink, a.table, a.namespace, a.createdNamespace, a.wroteResolvConf);
    this.slots.release(a.slot);
  }

  /** Slots of dead Trellis processes: remove what they left (issue 9: no stray namespaces). */
  private async sweepStale(): Promise<void> {
    for (const s of this.slots.takeStale()) {
      const r = s.record;
      await undo(
        `tlat${s.slot}`,
        TABLE_BASE + s.slot,
        r?.namespace,
        r?.createdNamespace ?? false,
        r?.wroteResolvConf ?? false,
      );
      this.slots.forgetStale(s.staleFile);
      this.logger.info('removed what a stopped Trellis left for a namespace VPC', {
        slot: s.slot,
        vpcId: r?.vpcId,
        namespace: r?.namespace,
        deletedNamespace: r?.createdNamespace ?? false,
      });
    }
  }

  /** Periodic: restore attachments whose namespace or link vanished; retry failed ones. */
  private async check(): Promise<void> {
    if (this.stopped) return;
    let changed = false;
    for (const a of this.attached.values()) {
      if (existsSync(`/sys/class/net/${a.hostLink}`)) continue;
      const nsExists = existsSync(join(NETNS_DIR, a.namespace));
      if (a.up)
        this.logger.warn('network namespace VPC lost its link; restoring it', {
          vpcId: a.vpcId,
          namespace: a.namespace,
          cause: nsExists ? 'veth deleted' : 'namespace deleted',
        });
      a.up = false;
      if (!nsExists) {
        if (!a.create) continue; // the user's namespace: wait for it to come back
        const made = await ip(['netns', 'add', a.namespace]);
        if (!made.ok) continue;
        a.createdNamespace = true;
      }
      const error = await this.plumb(a);
      if (error !== undefined) {
        this.logger.warn('network namespace VPC not restored yet', { vpcId: a.vpcId, error });
        continue;
      }
      if (a.wroteResolvConf || a.createdNamespace) this.writeResolvConf(a);
      a.up = true;
      this.logger.info('network namespace VPC restored', {
        vpcId: a.vpcId,
        namespace: a.namespace,
        latticeAddresses: this.addresses(a.vpcId),
      });
    }
    for (const vpc of this.desired.values()) {
      if (this.attached.has(vpc.vpcId) || this.stopped) continue;
      if (await this.tryAttach(vpc)) changed = true;
    }
    if (changed) this.onChange?.();
  }
}

/** Removes one attachment's host state; each step tolerates "already gone". */
async function undo(
  hostLink: string,
  table: number,
  namespace: string | undefined,
  deleteNamespace: boolean,
  wroteResolvConf: boolean,
): Promise<void> {
  await Promise.all([
    ipBatch(
      [],
      [`link del ${hostLink}`, `rule del pref ${table}`, `route flush table ${table}`],
      true,
    ),
    ipBatch(['-6'], [`rule del pref ${table}`, `route flush table ${table}`], true),
  ]);
  if (namespace === undefined) return;
  if (deleteNamespace) {
    await ip(['netns', 'del', namespace]);
    rmSync(join(ETC_NETNS, namespace), { recursive: true, force: true });
  } else {
    await ipBatch(['-n', namespace], [`link del ${NAMESPACE_LINK}`], true);
    if (wroteResolvConf) {
      const dir = join(ETC_NETNS, namespace);
      rmSync(join(dir, 'resolv.conf'), { force: true });
      try {
        if (readdirSync(dir).length === 0) rmdirSync(dir);
      } catch {
        // already gone
      }
    }
  }
}

function writeSysctl(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch {
    // not fatal: rp_filter may already be off
  }
}

/**
 * The address the namespace side carries when Trellis creates the namespace: the first host of
 * the VPC's first IPv4 CIDR (AWS reserves it for the VPC router, so no instance uses it). It gives
 * a fresh namespace's clients a source address inside the VPC's range.
 */
function routerAddress(vpc: Vpc): string | undefined {
  if (!vpc.networkNamespace?.create) return undefined;
  const cidr = vpc.cidrBlocks.find((c) => !c.includes(':'));
  if (cidr === undefined) return undefined;
  const [base, bits] = cidr.split('/') as [string, string];
  const prefix = Number(bits);
  if (prefix > 30) return undefined;
  const o = base.split('.').map(Number);
  const n = ((((o[0]! << 24) >>> 0) + (o[1]! << 16) + (o[2]! << 8) + o[3]!) >>> 0) & maskOf(prefix);
  const r = (n + 1) >>> 0;
  return `${r >>> 24}.${(r >>> 16) & 255}.${(r >>> 8) & 255}.${r & 255}`;
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}
