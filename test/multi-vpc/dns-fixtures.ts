/**
 * Hand-built snapshots for the DNS tests: VPCs with ingress addresses, service networks, services
 * (generated names, optional custom domain and tags) and the associations between them.
 */
import type { Snapshot } from '../../src/model/snapshot-types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };

const NOW = '2026-01-01T00:00:00.000Z';
const ACCOUNT = '111122223333';
let seq = 0;
function hex17(): string {
  seq += 1;
  return seq.toString(16).padStart(17, '0');
}

/** A snapshot under construction; every method returns the new id. */
export class DnsSnapshot {
  readonly s: Mutable<Snapshot> = {
    revision: 1,
    region: 'us-west-2',
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

  vpc(ingressAddresses: string[], vpcId = `vpc-${hex17()}`): string {
    this.s.vpcs.push({
      vpcId,
      ownerAccountId: ACCOUNT,
      cidrBlocks: [],
      ingressAddresses,
      createdAt: NOW,
    });
    return vpcId;
  }

  network(): string {
    const id = `sn-${hex17()}`;
    this.s.serviceNetworks.push({
      id,
      arn: `arn:aws:vpc-lattice:us-west-2:${ACCOUNT}:servicenetwork/${id}`,
      name: id,
      authType: 'NONE',
      createdAt: NOW,
      lastUpdatedAt: NOW,
      accountId: ACCOUNT,
    });
    return id;
  }

  /** A service; returns its generated DNS name. */
  service(options: { customDomainName?: string; tags?: Record<string, string> } = {}): {
    id: string;
    dnsName: string;
  } {
    const id = `svc-${hex17()}`;
    const dnsName = `s-${id.slice(4)}.7d67968.vpc-lattice-svcs.us-west-2.on.aws`;
    this.s.services.push({
      id,
      arn: `arn:aws:vpc-lattice:us-west-2:${ACCOUNT}:service/${id}`,
      name: `s-${id.slice(4)}`,
      authType: 'NONE',
      idleTimeoutSeconds: 60,
      dnsEntry: { domainName: dnsName, hostedZoneId: 'Z0' },
      status: 'ACTIVE',
      createdAt: NOW,
      lastUpdatedAt: NOW,
      accountId: ACCOUNT,
      ...(options.customDomainName ? { customDomainName: options.customDomainName } : {}),
      ...(options.tags ? { tags: options.tags } : {}),
    });
    return { id, dnsName };
  }

  associateVpc(networkId: string, vpcId: string): void {
    const id = `snva-${hex17()}`;
    this.s.serviceNetworkVpcAssociations.push({
      id,
      arn: `arn:aws:vpc-lattice:us-west-2:${ACCOUNT}:servicenetworkvpcassociation/${id}`,
      status: 'ACTIVE',
      createdBy: ACCOUNT,
      serviceNetworkId: networkId,
      serviceNetworkName: networkId,
      serviceNetworkArn: '',
      vpcId,
      createdAt: NOW,
      lastUpdatedAt: NOW,
      accountId: ACCOUNT,
    });
  }

  associateService(networkId: string, serviceId: string): void {
    const id = `snsa-${hex17()}`;
    this.s.serviceNetworkServiceAssociations.push({
      id,
      arn: `arn:aws:vpc-lattice:us-west-2:${ACCOUNT}:servicenetworkserviceassociation/${id}`,
      status: 'ACTIVE',
      createdBy: ACCOUNT,
      serviceId,
      serviceName: serviceId,
      serviceArn: '',
      serviceNetworkId: networkId,
      serviceNetworkName: networkId,
      serviceNetworkArn: '',
      dnsEntry: { domainName: '', hostedZoneId: 'Z0' },
      createdAt: NOW,
      accountId: ACCOUNT,
    });
  }

  /** A frozen copy at the next revision. */
  build(): Snapshot {
    this.s.revision += 1;
    return structuredClone(this.s) as Snapshot;
  }
}

/** A snapshot source fed by hand. */
export class ManualSource {
  private snapshot: Snapshot | undefined;
  private readonly listeners = new Set<(s: Snapshot) => void>();
  current(): Snapshot | undefined {
    return this.snapshot;
  }
  subscribe(onSnapshot: (s: Snapshot) => void): () => void {
    this.listeners.add(onSnapshot);
    return () => this.listeners.delete(onSnapshot);
  }
  push(s: Snapshot): void {
    this.snapshot = s;
    for (const l of this.listeners) l(s);
  }
}
