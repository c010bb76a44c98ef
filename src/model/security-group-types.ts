/**
 * Security groups (issue 8 §3; spec §7.5 "security layers" (2), §1.5 SNVA `securityGroupIds`):
 * Trellis keeps a small registry of them in its inventory, and the data plane applies the inbound
 * rules of an SN–VPC association's groups to clients connecting at that VPC's ingress.
 */

/** An inbound rule: protocol, destination (listener) port range, and one source. */
export interface SecurityGroupRule {
  /** `tcp`, or `-1` for all traffic (ports then do not matter). */
  protocol: 'tcp' | '-1';
  /** Inclusive listener-port range (tcp only; `-1` rules cover 0–65535). */
  fromPort: number;
  toPort: number;
  /** Exactly one source: an IPv4 CIDR, an IPv6 CIDR, or another security group of the VPC. */
  cidrIpv4?: string;
  cidrIpv6?: string;
  sourceSecurityGroupId?: string;
  description?: string;
}

/** A security group of one VPC. */
export interface SecurityGroup {
  groupId: string;
  groupName: string;
  description: string;
  vpcId: string;
  ownerAccountId: string;
  inboundRules: SecurityGroupRule[];
  /**
   * Client addresses that carry this group (Trellis has no network interfaces): a rule naming this
   * group as `sourceSecurityGroupId` admits them.
   */
  memberAddresses: string[];
  createdAt: string;
  tags?: Record<string, string>;
}
