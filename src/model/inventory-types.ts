/**
 * The inventory Lattice refers to but does not own: VPCs, instances and load balancers.
 * Trellis keeps a small registry of them (issue: data plane §1).
 */

/** A VPC: clients in it reach Lattice through its ingress addresses. */
export interface Vpc {
  vpcId: string;
  ownerAccountId: string;
  cidrBlocks: string[];
  /** Addresses on which the data plane accepts this VPC's clients (e.g. `127.0.0.1`, `::1`). */
  ingressAddresses: string[];
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
