import type {
  AuthType,
  HttpMatch,
  ListenerProtocol,
  RuleAction,
  TargetGroupConfig,
  TargetGroupType,
} from '../../model/lattice-types.js';
import type { Snapshot } from '../../model/snapshot-types.js';
import type { SnapshotSource } from '../snapshot-source.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };

const NOW = '2026-01-01T00:00:00.000Z';
let seq = 0;
function hex17(): string {
  seq += 1;
  return (seq.toString(16) + Math.random().toString(16).slice(2)).padEnd(17, '0').slice(0, 17);
}

/** Builds Snapshot objects by hand for data-plane tests. Every method returns the new id. */
export class SnapshotBuilder {
  readonly region = 'us-west-2';
  readonly account = '111122223333';
  private revision = 0;
  readonly s: Mutable<Snapshot>;

  constructor() {
    this.s = {
      revision: 0,
      region: this.region,
      partition: 'aws',
      serviceNetworks: [],
      services: [],
      listeners: [],
      rules: [],
      targetGroups: [],
      targets: [],
      serviceNetworkServiceAssociations: [],
      serviceNetworkVpcAssociations: [],
      authPolicies: [],
      accessLogSubscriptions: [],
      vpcs: [],
      instances: [],
      loadBalancers: [],
      accounts: [],
      users: [],
      roles: [],
      accessKeys: [],
    };
  }

  private arn(kind: string, id: string): string {
    return `arn:aws:vpc-lattice:${this.region}:${this.account}:${kind}/${id}`;
  }

  vpc(ingressAddresses: string[], vpcId = `vpc-${hex17()}`): string {
    this.s.vpcs.push({
      vpcId,
      ownerAccountId: this.account,
      cidrBlocks: ['10.0.0.0/16'],
      ingressAddresses,
      createdAt: NOW,
    });
    return vpcId;
  }

  network(authType: AuthType = 'NONE'): string {
    const id = `sn-${hex17()}`;
    this.s.serviceNetworks.push({
      id,
      arn: this.arn('servicenetwork', id),
      name: `net-${id.slice(3, 9)}`,
      authType,
      createdAt: NOW,
      lastUpdatedAt: NOW,
      accountId: this.account,
    });
    return id;
  }

  /** Adds a service; returns its id. Its generated DNS name is `hostOf(id)`. */
  service(
    opts: { customDomainName?: string; authType?: AuthType; idleTimeoutSeconds?: number } = {},
  ): string {
    const id = `svc-${hex17()}`;
    const name = `svc${id.slice(4, 10)}`;
    this.s.services.push({
      id,
      arn: this.arn('service', id),
      name,
      customDomainName: opts.customDomainName,
      authType: opts.authType ?? 'NONE',
      idleTimeoutSeconds: opts.idleTimeoutSeconds ?? 60,
      dnsEntry: {
        domainName: `${name}-${id.slice(4)}.7d67968.vpc-lattice-svcs.${this.region}.on.aws`,
        hostedZoneId: 'Z0000',
      },
      status: 'ACTIVE',
      createdAt: NOW,
      lastUpdatedAt: NOW,
      accountId: this.account,
    });
    return id;
  }

  hostOf(serviceId: string): string {
    return this.s.services.find((s) => s.id === serviceId)!.dnsEntry.domainName;
  }

  serviceArnOf(serviceId: string): string {
    return this.arn('service', serviceId);
  }
  networkArnOf(networkId: string): string {
    return this.arn('servicenetwork', networkId);
  }
  targetGroupArnOf(id: string): string {
    return this.arn('targetgroup', id);
  }

  associateService(networkId: string, serviceId: string): string {
    const id = `snsa-${hex17()}`;
    const svc = this.s.services.find((s) => s.id === serviceId)!;
    this.s.serviceNetworkServiceAssociations.push({
      id,
      arn: this.arn('servicenetworkserviceassociation', id),
      status: 'ACTIVE',
      createdBy: this.account,
      serviceId,
      serviceName: svc.name,
      serviceArn: svc.arn,
      serviceNetworkId: networkId,
      serviceNetworkName: 'n',
      serviceNetworkArn: this.arn('servicenetwork', networkId),
      dnsEntry: svc.dnsEntry,
      createdAt: NOW,
      accountId: this.account,
    });
    return id;
  }

  associateVpc(networkId: string, vpcId: string): string {
    const id = `snva-${hex17()}`;
    this.s.serviceNetworkVpcAssociations.push({
      id,
      arn: this.arn('servicenetworkvpcassociation', id),
      status: 'ACTIVE',
      createdBy: this.account,
      serviceNetworkId: networkId,
      serviceNetworkName: 'n',
      serviceNetworkArn: this.arn('servicenetwork', networkId),
      vpcId,
      createdAt: NOW,
      lastUpdatedAt: NOW,
      accountId: this.account,
    });
    return id;
  }

  targetGroup(type: TargetGroupType = 'IP', config: TargetGroupConfig = {}): string {
    const id = `tg-${hex17()}`;
    this.s.targetGroups.push({
      id,
      arn: this.arn('targetgroup', id),
      name: `tg-${id.slice(3, 9)}`,
      type,
      config: { protocol: 'HTTP', protocolVersion: 'HTTP1', ...config },
      status: 'ACTIVE',
      createdAt: NOW,
      lastUpdatedAt: NOW,
      accountId: this.account,
    });
    return id;
  }

  target(targetGroupId: string, id: string, port?: number, drainingUntil?: string): void {
    this.s.targets.push({
      targetGroupId,
      id,
      port,
      registeredAt: NOW,
      drainingUntil,
      accountId: this.account,
    });
  }

  removeTargets(targetGroupId: string): void {
    this.s.targets = this.s.targets.filter((t) => t.targetGroupId !== targetGroupId);
  }

  instance(instanceId: string, address: string, vpcId = 'vpc-x'): void {
    this.s.instances.push({
      instanceId,
      vpcId,
      ownerAccountId: this.account,
      address,
      createdAt: NOW,
    });
  }

  loadBalancer(address: string): string {
    const arn = `arn:aws:elasticloadbalancing:${this.region}:${this.account}:loadbalancer/app/lb/${hex17()}`;
    this.s.loadBalancers.push({
      loadBalancerArn: arn,
      name: 'lb',
      vpcId: 'vpc-x',
      ownerAccountId: this.account,
      address,
      createdAt: NOW,
    });
    return arn;
  }

  listener(
    serviceId: string,
    port: number,
    defaultAction: RuleAction,
    protocol: ListenerProtocol = 'HTTP',
  ): string {
    const id = `listener-${hex17()}`;
    this.s.listeners.push({
      id,
      arn: `${this.arn('service', serviceId)}/listener/${id}`,
      name: `l-${port}`,
      protocol,
      port,
      serviceId,
      serviceArn: this.arn('service', serviceId),
      defaultAction,
      createdAt: NOW,
      lastUpdatedAt: NOW,
      accountId: this.account,
    });
    return id;
  }

  removeListener(listenerId: string): void {
    this.s.listeners = this.s.listeners.filter((l) => l.id !== listenerId);
  }

  rule(listenerId: string, priority: number, httpMatch: HttpMatch, action: RuleAction): string {
    const id = `rule-${hex17()}`;
    const l = this.s.listeners.find((x) => x.id === listenerId)!;
    this.s.rules.push({
      id,
      arn: `${l.arn}/rule/${id}`,
      name: `r-${priority}`,
      priority,
      match: { httpMatch },
      action,
      isDefault: false,
      serviceId: l.serviceId,
      listenerId,
      createdAt: NOW,
      lastUpdatedAt: NOW,
      accountId: this.account,
    });
    return id;
  }

  /** A frozen-enough copy with the next revision. */
  build(): Snapshot {
    this.revision += 1;
    return structuredClone({ ...this.s, revision: this.revision }) as Snapshot;
  }
}

/** Forward to target groups: `forward(['tg-a', 80], ['tg-b', 20])` or `forward('tg-a')`. */
export function forward(...groups: (string | [string, number | undefined])[]): RuleAction {
  return {
    forward: {
      targetGroups: groups.map((g) =>
        typeof g === 'string'
          ? { targetGroupIdentifier: g }
          : { targetGroupIdentifier: g[0], weight: g[1] },
      ),
    },
  };
}

export function fixed(statusCode: number): RuleAction {
  return { fixedResponse: { statusCode } };
}

/** A SnapshotSource fed by the test. */
export class TestSnapshotSource implements SnapshotSource {
  private latest: Snapshot | undefined;
  private readonly subscribers = new Set<(s: Snapshot) => void>();

  current(): Snapshot | undefined {
    return this.latest;
  }

  subscribe(onSnapshot: (snapshot: Snapshot) => void): () => void {
    this.subscribers.add(onSnapshot);
    return () => this.subscribers.delete(onSnapshot);
  }

  push(snapshot: Snapshot): void {
    this.latest = snapshot;
    for (const s of this.subscribers) s(snapshot);
  }
}
