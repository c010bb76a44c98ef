/**
 * The inventory Lattice refers to but does not own: VPCs, instances and load balancers.
 * Trellis keeps a small registry of them (issue: data plane §1).
 */

/**
 * A VPC that is a Linux network namespace (issue 8 §1, docs/multi-vpc.md): the data plane gives it
 * a Lattice address inside the namespace and reaches its targets there.
 */
export interface VpcNetworkNamespace {
  /** The namespace's name (`ip netns` name, a file under /run/netns). */
  name: string;
  /** Trellis creates the namespace (and deletes it when it stops); false = the user's own. */
  create: boolean;
}

/** A VPC: clients in it reach Lattice through its ingress addresses. */
export interface Vpc {
  vpcId: string;
  ownerAccountId: string;
  cidrBlocks: string[];
  /**
   * Addresses on which the data plane accepts this VPC's clients (e.g. `127.0.0.1`, `::1`). Empty
   * in the store for a namespace VPC: the data plane that attaches it fills in its Lattice
   * addresses (169.254.171.x, fd00:ec2:80::x) in the snapshot it serves.
   */
  ingressAddresses: string[];
  /** Set when the VPC is a network namespace rather than plain ingress addresses. */
  networkNamespace?: VpcNetworkNamespace;
  createdAt: string;
  tags?: Record<string, string>;
}

/** An EC2-style instance: an INSTANCE target resolves to its address. */
export interface Instance {
  instanceId: string;
  vpcId: string;
  ownerAccountId: string;
  address: string;
  createdAt: string;
}

/** An application load balancer, the target of an ALB target group. */
export interface LoadBalancer {
  loadBalancerArn: string;
  name: string;
  vpcId: string;
  ownerAccountId: string;
  address: string;
  createdAt: string;
}
