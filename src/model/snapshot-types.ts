import type {
  AccessLogSubscription,
  AuthPolicy,
  Listener,
  Rule,
  Service,
  ServiceNetwork,
  ServiceNetworkServiceAssociation,
  ServiceNetworkVpcAssociation,
  Target,
  TargetGroup,
} from './lattice-types.js';
import type { Instance, LoadBalancer, Vpc } from './inventory-types.js';
import type { Account, AccessKey, IamRole, IamUser } from './iam-types.js';
import type { StoredCertificate } from './certificate-types.js';
import type { SecurityGroup } from './security-group-types.js';

/** A resource as it sits in a snapshot: its data plus the owner account. */
export type Owned<T> = T & { readonly accountId: string };

/**
 * An immutable, versioned view of everything the data plane needs, taken at one store revision.
 * `snapshot/` builds it from the store; `dataplane/` compiles it into matchers and pickers. The
 * data plane never reads the store, so this is the whole contract between the two halves.
 */
export interface Snapshot {
  readonly revision: number;
  readonly region: string;
  readonly partition: string;
  readonly serviceNetworks: readonly Owned<ServiceNetwork>[];
  readonly services: readonly Owned<Service>[];
  readonly listeners: readonly Owned<Listener>[];
  /** Non-default rules only; a listener's default action is on the listener. */
  readonly rules: readonly Owned<Rule>[];
  readonly targetGroups: readonly Owned<TargetGroup>[];
  readonly targets: readonly Owned<Target>[];
  readonly serviceNetworkServiceAssociations: readonly Owned<ServiceNetworkServiceAssociation>[];
  readonly serviceNetworkVpcAssociations: readonly Owned<ServiceNetworkVpcAssociation>[];
  readonly authPolicies: readonly Owned<AuthPolicy>[];
  readonly accessLogSubscriptions: readonly Owned<AccessLogSubscription>[];
  readonly vpcs: readonly Vpc[];
  readonly instances: readonly Instance[];
  readonly loadBalancers: readonly LoadBalancer[];
  readonly accounts: readonly Account[];
  readonly users: readonly IamUser[];
  readonly roles: readonly IamRole[];
  readonly accessKeys: readonly AccessKey[];
  /**
   * Certificates (spec §7.4) for HTTPS listeners; private keys stay sealed (AES-256-GCM) and only
   * the data plane, given the opening key by bin/, opens them. Absent in hand-built snapshots.
   */
  readonly certificates?: readonly Owned<StoredCertificate>[];
  /** Security groups (issue 8 §3) the data plane applies at VPC ingress. Absent in hand-built snapshots. */
  readonly securityGroups?: readonly SecurityGroup[];
}
