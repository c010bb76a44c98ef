/**
 * The kinds of resource the store keeps. Each stored resource has one kind, a globally unique id,
 * an owner account, an optional ARN, name and parent (e.g. a listener's parent is its service).
 */
export const RESOURCE_KINDS = [
  'service-network',
  'service',
  'listener',
  'rule',
  'target-group',
  'target',
  'service-network-service-association',
  'service-network-vpc-association',
  'auth-policy',
  'resource-policy',
  'access-log-subscription',
  'vpc',
  'instance',
  'load-balancer',
  'account',
  'iam-user',
  'iam-role',
  'access-key',
  'certificate',
  'function',
  'security-group',
  'resource-share',
  'resource-share-invitation',
] as const;

export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export function isResourceKind(value: string): value is ResourceKind {
  return (RESOURCE_KINDS as readonly string[]).includes(value);
}
