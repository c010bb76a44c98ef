/**
 * Trellis's own inventory API: the VPCs, instances and load balancers Lattice resources refer to.
 * Same wire rules as the Lattice API (REST-JSON, SigV4 — signing name `vpc-lattice` or
 * `trellis`, AWS error shapes); IAM actions `trellis:<Operation>`.
 *
 *   POST   /_trellis/vpcs                        CreateVpc         201
 *          { vpcId?: "vpc-…" (8|17 chars; default generated, 17 hex), cidrBlocks?: ["10.0.0.0/16"],
 *            ingressAddresses: ["127.0.0.2"] (IP literals, ≥1, unique across VPCs), tags?: {k: v},
 *            networkNamespace?: { name?, create? = true } (a Linux network namespace instead of
 *            ingress addresses, docs/multi-vpc.md) }
 *          → Vpc { vpcId, ownerAccountId, cidrBlocks, ingressAddresses, networkNamespace?,
 *                  createdAt, tags? }
 *   GET    /_trellis/vpcs/{vpcId}                GetVpc            200 → Vpc
 *   GET    /_trellis/vpcs?maxResults&nextToken   ListVpcs          200 → { items: Vpc[], nextToken? }
 *   DELETE /_trellis/vpcs/{vpcId}                DeleteVpc         204; 409 while a service-network
 *          association, target group, instance or load balancer uses it
 *   POST   /_trellis/instances                   CreateInstance    201
 *          { instanceId?: "i-…" (8|17 hex; default generated), vpcId, address: "127.0.0.5" }
 *          → Instance { instanceId, vpcId, ownerAccountId, address, createdAt }
 *   GET    /_trellis/instances?vpcId&maxResults&nextToken   ListInstances → { items, nextToken? }
 *   DELETE /_trellis/instances/{instanceId}      DeleteInstance    204; 409 while registered as a target
 *   POST   /_trellis/loadbalancers               CreateLoadBalancer 201
 *          { name (1–32 [a-zA-Z0-9-]), vpcId, address }
 *          → LoadBalancer { loadBalancerArn, name, vpcId, ownerAccountId, address, createdAt }
 *            loadBalancerArn = arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/{16 hex}
 *   GET    /_trellis/loadbalancers?vpcId&maxResults&nextToken  ListLoadBalancers → { items, nextToken? }
 *   DELETE /_trellis/loadbalancers/{loadBalancerArn}  (ARN percent-encoded)  DeleteLoadBalancer 204;
 *          409 while registered as an ALB target
 */
import {
  createInstance,
  createLoadBalancer,
  createVpc,
  deleteInstance,
  deleteLoadBalancer,
  deleteVpc,
  getVpc,
  listInstances,
  listLoadBalancers,
  listVpcs,
} from '../../manager/inventory.js';
import { writeScope, type OperationInput, type RestOperation } from '../rest-operation.js';
import { queryPage } from './query-params.js';

function pageWithVpc(input: OperationInput): {
  maxResults?: string;
  nextToken?: string;
  vpcId?: string;
} {
  const vpcId = input.query.get('vpcId');
  return { ...queryPage(input.query), ...(vpcId !== null ? { vpcId } : {}) };
}

/** Trellis's own inventory API: VPCs, instances, load balancers. */
export const inventoryOperations: RestOperation[] = [
  {
    name: 'CreateVpc',
    method: 'POST',
    path: '/_trellis/vpcs',
    successStatus: 201,
    action: 'trellis:CreateVpc',
    bodyMembers: ['vpcId', 'cidrBlocks', 'ingressAddresses', 'networkNamespace', 'tags'],
    handler: (scope, input) => createVpc(writeScope(scope), input.body),
  },
  {
    name: 'GetVpc',
    method: 'GET',
    path: '/_trellis/vpcs/{vpcId}',
    successStatus: 200,
    action: 'trellis:GetVpc',
    handler: (scope, input) => getVpc(scope, input.params.vpcId!),
  },
  {
    name: 'ListVpcs',
    method: 'GET',
    path: '/_trellis/vpcs',
    successStatus: 200,
    action: 'trellis:ListVpcs',
    queryMembers: ['maxResults', 'nextToken'],
    handler: (scope, input) => listVpcs(scope, queryPage(input.query)),
  },
  {
    name: 'DeleteVpc',
    method: 'DELETE',
    path: '/_trellis/vpcs/{vpcId}',
    successStatus: 204,
    action: 'trellis:DeleteVpc',
    handler: async (scope, input) => {
      await deleteVpc(writeScope(scope), input.params.vpcId!);
      return undefined;
    },
  },
  {
    name: 'CreateInstance',
    method: 'POST',
    path: '/_trellis/instances',
    successStatus: 201,
    action: 'trellis:CreateInstance',
    bodyMembers: ['instanceId', 'vpcId', 'address'],
    handler: (scope, input) => createInstance(writeScope(scope), input.body),
  },
  {
    name: 'ListInstances',
    method: 'GET',
    path: '/_trellis/instances',
    successStatus: 200,
    action: 'trellis:ListInstances',
    queryMembers: ['vpcId', 'maxResults', 'nextToken'],
    handler: (scope, input) => listInstances(scope, pageWithVpc(input)),
  },
  {
    name: 'DeleteInstance',
    method: 'DELETE',
    path: '/_trellis/instances/{instanceId}',
    successStatus: 204,
    action: 'trellis:DeleteInstance',
    handler: async (scope, input) => {
      await deleteInstance(writeScope(scope), input.params.instanceId!);
      return undefined;
    },
  },
  {
    name: 'CreateLoadBalancer',
    method: 'POST',
    path: '/_trellis/loadbalancers',
    successStatus: 201,
    action: 'trellis:CreateLoadBalancer',
    bodyMembers: ['name', 'vpcId', 'address'],
    handler: (scope, input) => createLoadBalancer(writeScope(scope), input.body),
  },
  {
    name: 'ListLoadBalancers',
    method: 'GET',
    path: '/_trellis/loadbalancers',
    successStatus: 200,
    action: 'trellis:ListLoadBalancers',
    queryMembers: ['vpcId', 'maxResults', 'nextToken'],
    handler: (scope, input) => listLoadBalancers(scope, pageWithVpc(input)),
  },
  {
    name: 'DeleteLoadBalancer',
    method: 'DELETE',
    path: '/_trellis/loadbalancers/{loadBalancerArn}',
    successStatus: 204,
    action: 'trellis:DeleteLoadBalancer',
    handler: async (scope, input) => {
      await deleteLoadBalancer(writeScope(scope), input.params.loadBalancerArn!);
      return undefined;
    },
  },
];
