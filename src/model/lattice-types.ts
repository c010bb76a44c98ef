/**
 * VPC Lattice resource types, in AWS's own nouns and field names (spec §1.5). These are the shapes
 * the store keeps (as the `data` of a stored resource) and the API renders.
 */

export type AuthType = 'NONE' | 'AWS_IAM';
export type ResourceStatus =
  'ACTIVE' | 'CREATE_IN_PROGRESS' | 'DELETE_IN_PROGRESS' | 'CREATE_FAILED' | 'DELETE_FAILED';
export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS_PASSTHROUGH';
export type TargetGroupType = 'IP' | 'LAMBDA' | 'INSTANCE' | 'ALB';
export type TargetGroupProtocol = 'HTTP' | 'HTTPS' | 'TCP';
export type TargetGroupProtocolVersion = 'HTTP1' | 'HTTP2' | 'GRPC';
export type IpAddressType = 'IPV4' | 'IPV6';
export type TargetStatus =
  'DRAINING' | 'UNAVAILABLE' | 'HEALTHY' | 'UNHEALTHY' | 'INITIAL' | 'UNUSED';
export type Tags = Record<string, string>;

export interface DnsEntry {
  domainName: string;
  hostedZoneId: string;
}

export interface ServiceNetwork {
  id: string;
  arn: string;
  name: string;
  authType: AuthType;
  sharingConfig?: { enabled: boolean };
  createdAt: string;
  lastUpdatedAt: string;
  tags?: Tags;
}

export interface Service {
  id: string;
  arn: string;
  name: string;
  customDomainName?: string;
  certificateArn?: string;
  authType: AuthType;
  idleTimeoutSeconds: number;
  dnsEntry: DnsEntry;
  status: ResourceStatus;
  createdAt: string;
  lastUpdatedAt: string;
  tags?: Tags;
}

export interface WeightedTargetGroup {
  targetGroupIdentifier: string;
  weight?: number;
}

/** Union: exactly one member set (spec §1.1). */
export interface RuleAction {
  forward?: { targetGroups: WeightedTargetGroup[] };
  fixedResponse?: { statusCode: number };
}

export interface PathMatchType {
  exact?: string;
  prefix?: string;
}
export interface HeaderMatchType {
  exact?: string;
  prefix?: string;
  contains?: string;
}
export interface HeaderMatch {
  name: string;
  match: HeaderMatchType;
  caseSensitive?: boolean;
}
export interface HttpMatch {
  method?: string;
  pathMatch?: { match: PathMatchType; caseSensitive?: boolean };
  headerMatches?: HeaderMatch[];
}
export interface RuleMatch {
  httpMatch?: HttpMatch;
}

export interface Listener {
  id: string;
  arn: string;
  name: string;
  protocol: ListenerProtocol;
  port: number;
  serviceId: string;
  serviceArn: string;
  defaultAction: RuleAction;
  createdAt: string;
  lastUpdatedAt: string;
  tags?: Tags;
}

export interface Rule {
  id: string;
  arn: string;
  name: string;
  priority: number;
  match: RuleMatch;
  action: RuleAction;
  isDefault: boolean;
  serviceId: string;
  listenerId: string;
  createdAt: string;
  lastUpdatedAt: string;
  tags?: Tags;
}

export interface Matcher {
  httpCode?: string;
}

export interface HealthCheckConfig {
  enabled?: boolean;
  protocol?: 'HTTP' | 'HTTPS' | 'TCP';
  protocolVersion?: 'HTTP1' | 'HTTP2';
  port?: number;
  path?: string;
  healthCheckIntervalSeconds?: number;
  healthCheckTimeoutSeconds?: number;
  healthyThresholdCount?: number;
  unhealthyThresholdCount?: number;
  matcher?: Matcher;
}

export interface TargetGroupConfig {
  port?: number;
  protocol?: TargetGroupProtocol;
  protocolVersion?: TargetGroupProtocolVersion;
  ipAddressType?: IpAddressType;
  vpcIdentifier?: string;
  healthCheck?: HealthCheckConfig;
  lambdaEventStructureVersion?: 'V1' | 'V2';
}

export interface TargetGroup {
  id: string;
  arn: string;
  name: string;
  type: TargetGroupType;
  config?: TargetGroupConfig;
  status: ResourceStatus;
  createdAt: string;
  lastUpdatedAt: string;
  tags?: Tags;
}

/** A registered target (stored as its own resource, parent = the target group). */
export interface Target {
  targetGroupId: string;
  id: string;
  port?: number;
  registeredAt: string;
  /** Set when DeregisterTargets was called: the target drains until this instant, then disappears. */
  drainingUntil?: string;
}

export type AssociationStatus =
  | 'CREATE_IN_PROGRESS'
  | 'ACTIVE'
  | 'UPDATE_IN_PROGRESS'
  | 'DELETE_IN_PROGRESS'
  | 'CREATE_FAILED'
  | 'DELETE_FAILED'
  | 'UPDATE_FAILED';

export interface ServiceNetworkServiceAssociation {
  id: string;
  arn: string;
  status: AssociationStatus;
  createdBy: string;
  serviceId: string;
  serviceName: string;
  serviceArn: string;
  serviceNetworkId: string;
  serviceNetworkName: string;
  serviceNetworkArn: string;
  dnsEntry: DnsEntry;
  customDomainName?: string;
  createdAt: string;
  tags?: Tags;
}

export interface ServiceNetworkVpcAssociation {
  id: string;
  arn: string;
  status: AssociationStatus;
  createdBy: string;
  serviceNetworkId: string;
  serviceNetworkName: string;
  serviceNetworkArn: string;
  vpcId: string;
  securityGroupIds?: string[];
  privateDnsEnabled?: boolean;
  createdAt: string;
  lastUpdatedAt: string;
  tags?: Tags;
}

export type AuthPolicyState = 'Active' | 'Inactive';

export interface AuthPolicy {
  /** ID of the service network or service the policy is attached to. */
  resourceId: string;
  resourceArn: string;
  policy: string;
  createdAt: string;
  lastUpdatedAt: string;
}

export interface ResourcePolicy {
  resourceArn: string;
  policy: string;
}

export interface AccessLogSubscription {
  id: string;
  arn: string;
  resourceId: string;
  resourceArn: string;
  destinationArn: string;
  serviceNetworkLogType?: 'SERVICE' | 'RESOURCE';
  createdAt: string;
  lastUpdatedAt: string;
  tags?: Tags;
}
