import { STATUS_CODES } from 'node:http';
import type { Dispatcher } from 'undici';
import { resolveHealthCheck } from '../model/health-check-defaults.js';
import { idFromIdentifier } from '../model/ids.js';
import type {
  AssociationStatus,
  AuthType,
  Listener,
  Rule,
  RuleAction,
  Service,
  ServiceNetwork,
  Target,
  TargetGroup,
} from '../model/lattice-types.js';
import type { Owned, Snapshot } from '../model/snapshot-types.js';
import type { Http2Origin } from './http2-upstream-pools.js';
import { CompiledMatch } from './rule-matcher.js';
import { compileSecurityGroupGates, type SecurityGroupGate } from './security-group-filter.js';
import {
  CompiledTarget,
  FixedResponseAction,
  ForwardAction,
  ForwardChoice,
  TargetGroupRuntime,
  type CompiledAction,
} from './target-picker.js';

/** A snapshot that cannot be compiled; the running one stays (spec: never replaced). */
export class SnapshotCompileError extends Error {
  override readonly name = 'SnapshotCompileError';
}

/** A rule with its conditions compiled, in evaluation order. */
export class CompiledRule {
  constructor(
    readonly id: string,
    readonly priority: number,
    readonly match: CompiledMatch,
    readonly action: CompiledAction,
  ) {}
}

/** A listener of one service as seen through one service network. */
export class CompiledListener {
  readonly needsLowerPath: boolean;
  constructor(
    readonly id: string,
    readonly arn: string,
    readonly port: number,
    /** Ascending priority (spec §7.2 step 2). */
    readonly rules: readonly CompiledRule[],
    readonly defaultAction: CompiledAction,
  ) {
    this.needsLowerPath = rules.some((r) => r.match.needsLowerPath);
  }
}

/** A service reached through one service network: its listeners, auth types and ARNs. */
export class ServiceBinding {
  readonly serviceId: string;
  readonly serviceArn: string;
  readonly serviceNetworkId: string;
  readonly serviceNetworkArn: string;
  readonly serviceAuthType: AuthType;
  readonly serviceNetworkAuthType: AuthType;
  /** False when both auth types are NONE: the auth gate is skipped entirely. */
  readonly authRequired: boolean;
  /** Client connection idle timeout (spec §6 `idleTimeoutSeconds`). */
  readonly idleTimeoutMs: number;
  readonly listeners: Map<number, CompiledListener>;

  constructor(
    service: Owned<Service>,
    network: Owned<ServiceNetwork>,
    listeners: Map<number, CompiledListener>,
  ) {
    this.serviceId = service.id;
    this.serviceArn = service.arn;
    this.serviceNetworkId = network.id;
    this.serviceNetworkArn = network.arn;
    this.serviceAuthType = service.authType;
    this.serviceNetworkAuthType = network.authType;
    this.authRequired = service.authType !== 'NONE' || network.authType !== 'NONE';
    this.idleTimeoutMs = (service.idleTimeoutSeconds > 0 ? service.idleTimeoutSeconds : 60) * 1000;
    this.listeners = listeners;
  }
}

/** One VPC's view: which hosts its clients may reach, plus its precomputed header values. */
export class CompiledVpc {
  constructor(
    readonly vpcId: string,
    readonly sourceVpcArn: string,
    /** `x-amzn-lattice-network` value (spec §3.1). */
    readonly networkHeader: string,
    /** Lower-cased host name → binding; only services reachable from this VPC (spec §7.5). */
    readonly hosts: Map<string, ServiceBinding>,
  ) {}
}

/** An (address, port) the data plane should listen on, and the VPC whose clients arrive there. */
export interface ListenAddress {
  address: string;
  port: number;
  vpcId: string;
  /** The inbound rules of the VPC's association's security groups (issue 8 §3); absent → open. */
  securityGroups?: SecurityGroupGate;
  /** Terminates TLS (an HTTPS listener uses the port; tls-listener.ts sets it). */
  tls?: boolean;
}

/** Everything a request needs, built once per snapshot and swapped atomically. */
export interface CompiledSnapshot {
  readonly revision: number;
  readonly region: string;
  /** Ingress address → VPC. */
  readonly vpcsByAddress: Map<string, CompiledVpc>;
  readonly listenAddresses: readonly ListenAddress[];
  readonly targetGroups: Map<string, TargetGroupRuntime>;
}

/** What compilation needs from outside: a pool per target origin, and a once-per-key warning. */
export interface CompileDeps {
  region?: string;
  /** `localAddress`: bind connections to it (targets of a namespace VPC, netns/). */
  acquirePool(origin: string, localAddress?: string): Dispatcher;
  /** LAMBDA targets' dispatcher (lambda-forwarder.ts); without it LAMBDA groups get no traffic. */
  acquireFunction?(functionArn: string, eventVersion: 'V1' | 'V2'): Dispatcher;
  /** HTTP/2 sessions per target origin, for HTTP2/GRPC target groups (spec §7.3). */
  acquireHttp2?(origin: string, localAddress?: string): Http2Origin;
  warnOnce(key: string, message: string, fields?: Record<string, unknown>): void;
  /**
   * Keeps a pool from an earlier compile for this one (as `acquirePool` would have); false when
   * it is not one of this plane's live pools. Lets unchanged target groups be reused.
   */
  retainPool?(pool: Dispatcher): boolean;
}

/** A target group's compiled targets and the snapshot entries they were compiled from. */
class CompiledGroupTargets {
  constructor(
    readonly sources: readonly Owned<Target>[],
    readonly targets: CompiledTarget[],
  ) {}
}

/**
 * Compiled targets per target-group entry. Snapshot entries are immutable and keep their identity
 * while unchanged (snapshot-builder.ts), so a group whose entry and target entries are the same
 * objects as at the last compile compiles to the same targets: with 100,000 targets, compiling
 * each again on every API write was most of a rebuild (bench/README.md, control plane at 10k).
 */
const compiledGroups = new WeakMap<object, CompiledGroupTargets>();

/** The last compile's targets of `g`, if still valid for `sources` and their pools retained. */
function reuseGroupTargets(
  g: Owned<TargetGroup>,
  sources: readonly Owned<Target>[],
  deps: CompileDeps,
): CompiledTarget[] | undefined {
  const memo = compiledGroups.get(g);
  if (memo === undefined || deps.retainPool === undefined) return undefined;
  const before = memo.sources;
  if (before.length !== sources.length) return undefined;
  for (let i = 0; i < sources.length; i++) if (before[i] !== sources[i]) return undefined;
  for (const t of memo.targets)
    if (t.pool !== undefined && !deps.retainPool(t.pool)) return undefined;
  return memo.targets;
}

/** Association states in which traffic flows (the association exists and is not being removed). */
const LIVE_ASSOCIATION: ReadonlySet<AssociationStatus> = new Set([
  'ACTIVE',
  'UPDATE_IN_PROGRESS',
  'UPDATE_FAILED',
  'DELETE_FAILED',
]);

/**
 * Default weight of a weighted target group without one. The model contradicts itself (spec §8.4:
 * "default value is 1" on ForwardAction, "100 if only one target group" on WeightedTargetGroup); we
 * honour both literally: 100 when the action has a single group (where the number cannot change
 * the outcome), otherwise 1.
 */
export function defaultWeight(groupCount: number): number {
  return groupCount === 1 ? 100 : 1;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Compiles a snapshot; throws `SnapshotCompileError` for an inconsistent one. */
export function compileSnapshot(snapshot: Snapshot, deps: CompileDeps): CompiledSnapshot {
  const region = deps.region ?? snapshot.region;
  const partition = snapshot.partition || 'aws';

  // Target groups and their targets.
  const instances = new Map(snapshot.instances.map((i) => [i.instanceId, i]));
  const loadBalancers = new Map(snapshot.loadBalancers.map((lb) => [lb.loadBalancerArn, lb]));
  const namespaceVpcs = new Map(
    snapshot.vpcs.filter((v) => v.networkNamespace !== undefined).map((v) => [v.vpcId, v]),
  );
  const targetsByGroup = new Map<string, CompiledTarget[]>();
  const groups = new Map<string, Owned<TargetGroup>>(snapshot.targetGroups.map((g) => [g.id, g]));
  const sourcesByGroup = new Map<string, Owned<Target>[]>();
  for (const t of snapshot.targets) {
    let list = sourcesByGroup.get(t.targetGroupId);
    if (list === undefined) sourcesByGroup.set(t.targetGroupId, (list = []));
    list.push(t);
  }
  // Only plain IP groups are reused: their addresses are the target ids (INSTANCE and ALB targets
  // resolve through other entries), with no namespace VPC, Lambda or HTTP/2 sessions involved.
  const reusable = (g: Owned<TargetGroup>): boolean =>
    g.type === 'IP' &&
    !namespaceVpcs.has(g.config?.vpcIdentifier ?? '') &&
    g.config?.protocolVersion !== 'HTTP2' &&
    g.config?.protocolVersion !== 'GRPC';
  const fresh = new Set<string>();
  const reused = new Set<string>();
  for (const [groupId, sources] of sourcesByGroup) {
    const g = groups.get(groupId);
    if (g === undefined || !reusable(g)) continue;
    const targets = reuseGroupTargets(g, sources, deps);
    if (targets === undefined) fresh.add(groupId);
    else {
      targetsByGroup.set(groupId, targets);
      reused.add(groupId);
    }
  }
  for (const t of snapshot.targets) {
    if (reused.has(t.targetGroupId)) continue;
    const g = groups.get(t.targetGroupId);
    if (g === undefined) continue;
    const port = t.port ?? g.config?.port ?? (g.config?.protocol === 'HTTPS' ? 443 : 80);
    let address: string | undefined;
    if (g.type === 'IP') address = t.id;
    else if (g.type === 'INSTANCE') address = instances.get(t.id)?.address;
    else if (g.type === 'ALB') address = loadBalancers.get(t.id)?.address;
    if (address === undefined && g.type !== 'LAMBDA')
      deps.warnOnce(`unresolved:${g.id}:${t.id}`, 'target address cannot be resolved', {
        targetGroupId: g.id,
        targetId: t.id,
      });
    const draining = t.drainingUntil !== undefined;
    const scheme = g.config?.protocol === 'HTTPS' ? 'https' : 'http';
    // Issue 8 §1: a target of a namespace VPC is reached from that VPC's Lattice address of the
    // same family; unattached (no address yet) → not routable, never the host's own network.
    const vpcOfGroup = namespaceVpcs.get(g.config?.vpcIdentifier ?? '');
    const localAddress =
      vpcOfGroup === undefined || address === undefined
        ? undefined
        : vpcOfGroup.ingressAddresses.find((a) => a.includes(':') === address!.includes(':'));
    const unattached = vpcOfGroup !== undefined && localAddress === undefined;
    if (unattached && address !== undefined && g.type !== 'LAMBDA')
      deps.warnOnce(`netns:${g.id}:${t.id}`, 'target is in a namespace VPC not attached yet', {
        targetGroupId: g.id,
        targetId: t.id,
        vpcId: vpcOfGroup.vpcId,
      });
    const routable =
      address !== undefined &&
      !unattached &&
      !draining &&
      g.type !== 'LAMBDA' &&
      g.config?.protocol !== 'TCP';
    const pool = routable
      ? deps.acquirePool(`${scheme}://${hostPort(address!, port)}`, localAddress)
      : g.type === 'LAMBDA' && !draining
        ? deps.acquireFunction?.(t.id, g.config?.lambdaEventStructureVersion ?? 'V1')
        : undefined;
    // spec §7.3: HTTP2 and GRPC groups reach their targets over multiplexed HTTP/2 sessions.
    const version = g.config?.protocolVersion;
    const h2 =
      routable && (version === 'HTTP2' || version === 'GRPC')
        ? deps.acquireHttp2?.(`${scheme}://${hostPort(address!, port)}`, localAddress)
        : undefined;
    let list = targetsByGroup.get(g.id);
    if (list === undefined) targetsByGroup.set(g.id, (list = []));
    const compiled = new CompiledTarget(t.id, port, address, draining, pool, h2);
    compiled.localAddress = localAddress;
    list.push(compiled);
  }
  for (const groupId of fresh) {
    const g = groups.get(groupId)!;
    compiledGroups.set(
      g,
      new CompiledGroupTargets(sourcesByGroup.get(groupId)!, targetsByGroup.get(groupId) ?? []),
    );
  }
  const targetGroups = new Map<string, TargetGroupRuntime>();
  for (const g of snapshot.targetGroups) {
    if (g.type === 'LAMBDA' && deps.acquireFunction === undefined)
      deps.warnOnce(`lambda:${g.id}`, 'LAMBDA target groups are not served yet', {
        targetGroupId: g.id,
      });
    const healthCheck = resolveHealthCheck(g.config);
    if (g.type === 'ALB' || g.type === 'LAMBDA') healthCheck.enabled = false; // spec §5
    targetGroups.set(
      g.id,
      new TargetGroupRuntime(
        g.id,
        g.arn,
        g.type,
        healthCheck,
        targetsByGroup.get(g.id) ?? [],
        // spec §7.1: TCP groups serve TLS_PASSTHROUGH listeners (tls-passthrough.ts pipes bytes).
        g.config?.protocol === 'TCP',
      ),
    );
  }

  for (const g of snapshot.targetGroups) {
    const runtime = targetGroups.get(g.id);
    if (runtime !== undefined && g.type !== 'LAMBDA')
      runtime.protocolVersion = g.config?.protocolVersion ?? 'HTTP1';
  }

  // Listeners and rules, per service.
  const listenersByService = new Map<string, Owned<Listener>[]>();
  for (const l of snapshot.listeners) {
    let list = listenersByService.get(l.serviceId);
    if (list === undefined) listenersByService.set(l.serviceId, (list = []));
    list.push(l);
  }
  const rulesByListener = new Map<string, Owned<Rule>[]>();
  for (const r of snapshot.rules) {
    if (r.isDefault) continue;
    let list = rulesByListener.get(r.listenerId);
    if (list === undefined) rulesByListener.set(r.listenerId, (list = []));
    list.push(r);
  }
  for (const list of rulesByListener.values())
    list.sort((a, b) => a.priority - b.priority || (a.id < b.id ? -1 : 1));

  // Mark groups in use anywhere (spec §1.5: UNUSED otherwise), whatever the reachability.
  // Every action is checked, reachable or not: a dangling reference means an inconsistent snapshot.
  const markUse = (action: RuleAction, where: string): void => {
    for (const w of action.forward?.targetGroups ?? []) {
      const g = targetGroups.get(idFromIdentifier(w.targetGroupIdentifier));
      if (g === undefined)
        throw new SnapshotCompileError(
          `${where}: forwards to unknown target group ${w.targetGroupIdentifier}`,
        );
      g.inUse = true;
    }
  };
  for (const l of snapshot.listeners) markUse(l.defaultAction, `listener ${l.id}`);
  for (const r of snapshot.rules) if (!r.isDefault) markUse(r.action, `rule ${r.id}`);

  const compileAction = (
    action: RuleAction,
    service: Owned<Service>,
    network: Owned<ServiceNetwork>,
    where: string,
  ): CompiledAction => {
    if (action.fixedResponse !== undefined) {
      const status = action.fixedResponse.statusCode;
      return new FixedResponseAction(status, `${STATUS_CODES[status] ?? 'Fixed Response'}\n`);
    }
    const wanted = action.forward?.targetGroups;
    if (wanted === undefined)
      throw new SnapshotCompileError(`${where}: action has neither forward nor fixedResponse`);
    const choices = wanted.map((w) => {
      const g = targetGroups.get(idFromIdentifier(w.targetGroupIdentifier));
      if (g === undefined)
        throw new SnapshotCompileError(
          `${where}: forwards to unknown target group ${w.targetGroupIdentifier}`,
        );
      const weight = w.weight ?? defaultWeight(wanted.length);
      // spec §3.1: observed separators are "; ".
      const header = `ServiceArn=${service.arn}; ServiceNetworkArn=${network.arn}; TargetGroupArn=${g.arn}`;
      return new ForwardChoice(g, weight, header);
    });
    return new ForwardAction(choices);
  };

  const bindingCache = new Map<string, ServiceBinding>();
  const bindService = (service: Owned<Service>, network: Owned<ServiceNetwork>): ServiceBinding => {
    const key = `${service.id}|${network.id}`;
    const cached = bindingCache.get(key);
    if (cached !== undefined) return cached;
    const byPort = new Map<number, CompiledListener>();
    for (const l of listenersByService.get(service.id) ?? []) {
      const rules = (rulesByListener.get(l.id) ?? []).map(
        (r) =>
          new CompiledRule(
            r.id,
            r.priority,
            new CompiledMatch(r.match.httpMatch),
            compileAction(r.action, service, network, `rule ${r.id}`),
          ),
      );
      byPort.set(
        l.port,
        new CompiledListener(
          l.id,
          l.arn,
          l.port,
          rules,
          compileAction(l.defaultAction, service, network, `listener ${l.id}`),
        ),
      );
    }
    const binding = new ServiceBinding(service, network, byPort);
    bindingCache.set(key, binding);
    return binding;
  };

  // Reachability (spec §7.5): VPC → associated networks → associated services.
  const networks = new Map(snapshot.serviceNetworks.map((n) => [n.id, n]));
  const services = new Map(
    snapshot.services
      .filter((s) => s.status !== 'DELETE_IN_PROGRESS' && s.status !== 'CREATE_FAILED')
      .map((s) => [s.id, s]),
  );
  const servicesByNetwork = new Map<string, { service: Owned<Service>; names: string[] }[]>();
  const snsas = [...snapshot.serviceNetworkServiceAssociations].sort((a, b) =>
    a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1,
  );
  for (const a of snsas) {
    if (!LIVE_ASSOCIATION.has(a.status)) continue;
    const service = services.get(a.serviceId);
    if (service === undefined) continue;
    const names = [
      service.dnsEntry?.domainName,
      service.customDomainName,
      a.dnsEntry?.domainName,
      a.customDomainName,
    ];
    let list = servicesByNetwork.get(a.serviceNetworkId);
    if (list === undefined) servicesByNetwork.set(a.serviceNetworkId, (list = []));
    list.push({
      service,
      names: names.filter((n): n is string => !!n).map((n) => n.toLowerCase()),
    });
  }
  const snvas = [...snapshot.serviceNetworkVpcAssociations].sort((a, b) =>
    a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1,
  );
  const networksByVpc = new Map<string, Owned<ServiceNetwork>[]>();
  for (const a of snvas) {
    if (!LIVE_ASSOCIATION.has(a.status)) continue;
    const n = networks.get(a.serviceNetworkId);
    if (n === undefined) continue;
    let list = networksByVpc.get(a.vpcId);
    if (list === undefined) networksByVpc.set(a.vpcId, (list = []));
    list.push(n);
  }

  const vpcsByAddress = new Map<string, CompiledVpc>();
  const listenAddresses: ListenAddress[] = [];
  for (const vpc of snapshot.vpcs) {
    const hosts = new Map<string, ServiceBinding>();
    const ports = new Set<number>();
    for (const network of networksByVpc.get(vpc.vpcId) ?? []) {
      for (const { service, names } of servicesByNetwork.get(network.id) ?? []) {
        const binding = bindService(service, network);
        for (const name of names) {
          const existing = hosts.get(name);
          if (existing === undefined) hosts.set(name, binding);
          else if (existing.serviceId !== service.id)
            deps.warnOnce(
              `host:${vpc.vpcId}:${name}`,
              'two reachable services share a host name; the first wins',
              {
                vpcId: vpc.vpcId,
                host: name,
              },
            );
        }
        for (const port of binding.listeners.keys()) ports.add(port);
      }
    }
    const sourceVpcArn = `arn:${partition}:ec2:${region}:${vpc.ownerAccountId}:vpc/${vpc.vpcId}`;
    const compiled = new CompiledVpc(
      vpc.vpcId,
      sourceVpcArn,
      `SourceVpcArn=${sourceVpcArn}`,
      hosts,
    );
    for (const address of vpc.ingressAddresses) {
      const other = vpcsByAddress.get(address);
      if (other !== undefined)
        throw new SnapshotCompileError(
          `ingress address ${address} belongs to both ${other.vpcId} and ${vpc.vpcId}`,
        );
      vpcsByAddress.set(address, compiled);
      for (const port of [...ports].sort((a, b) => a - b))
        listenAddresses.push({ address, port, vpcId: vpc.vpcId });
    }
  }

  // issue 8 §3: the VPC's security groups guard each of its ingress listeners.
  const gates = compileSecurityGroupGates(snapshot);
  if (gates.size > 0)
    for (const l of listenAddresses) {
      const gate = gates.get(l.vpcId);
      if (gate !== undefined) l.securityGroups = gate;
    }

  return { revision: snapshot.revision, region, vpcsByAddress, listenAddresses, targetGroups };
}
