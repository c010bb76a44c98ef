/** Lattice account quotas (spec §6) as configurable limits; values may be raised by configuration. */

export interface QuotaDefinition {
  /** Key used in configuration (`TRELLIS_QUOTA_<KEY>` / `quotas.<key>`). */
  key: QuotaKey;
  value: number;
  quotaCode: string;
  /** `resourceType` reported in `ServiceQuotaExceededException`. */
  resourceType: string;
}

export type QuotaKey =
  | 'serviceNetworksPerRegion'
  | 'servicesPerRegion'
  | 'targetGroupsPerRegion'
  | 'listenersPerService'
  | 'rulesPerListener'
  | 'targetGroupsPerService'
  | 'targetsPerTargetGroup'
  | 'serviceAssociationsPerServiceNetwork'
  | 'vpcAssociationsPerServiceNetwork';

export const DEFAULT_QUOTAS: Readonly<Record<QuotaKey, QuotaDefinition>> = Object.freeze({
  serviceNetworksPerRegion: q('serviceNetworksPerRegion', 50, 'L-9CAD07FB', 'SERVICE_NETWORK'),
  servicesPerRegion: q('servicesPerRegion', 2000, 'L-620C821E', 'SERVICE'),
  targetGroupsPerRegion: q('targetGroupsPerRegion', 500, 'L-BB11C6B9', 'TARGET_GROUP'),
  listenersPerService: q('listenersPerService', 2, 'L-D64E952E', 'LISTENER'),
  rulesPerListener: q('rulesPerListener', 10, 'L-CF78395E', 'RULE'),
  targetGroupsPerService: q('targetGroupsPerService', 10, 'L-3DEC3B9F', 'TARGET_GROUP'),
  targetsPerTargetGroup: q('targetsPerTargetGroup', 1000, 'L-D71303F3', 'TARGET'),
  serviceAssociationsPerServiceNetwork: q(
    'serviceAssociationsPerServiceNetwork',
    500,
    'L-75D4A19E',
    'SERVICE_NETWORK_SERVICE_ASSOCIATION',
  ),
  vpcAssociationsPerServiceNetwork: q(
    'vpcAssociationsPerServiceNetwork',
    500,
    'L-EF6E2D62',
    'SERVICE_NETWORK_VPC_ASSOCIATION',
  ),
});

function q(key: QuotaKey, value: number, quotaCode: string, resourceType: string): QuotaDefinition {
  return { key, value, quotaCode, resourceType };
}

/** Effective quota values: defaults overridden by configuration. */
export type QuotaValues = Readonly<Record<QuotaKey, number>>;

export function defaultQuotaValues(): QuotaValues {
  const out = {} as Record<QuotaKey, number>;
  for (const [k, d] of Object.entries(DEFAULT_QUOTAS)) out[k as QuotaKey] = d.value;
  return Object.freeze(out);
}

/** Non-adjustable limits (spec §6). */
export const FIXED_LIMITS = Object.freeze({
  authPolicyBytes: 10 * 1024,
  securityGroupsPerVpcAssociation: 5,
  requestHeaderBytes: 60 * 1024,
  requestHeaderCount: 100,
  lambdaPayloadBytes: 6 * 1024 * 1024,
  maxConnectionLifetimeMs: 10 * 60 * 1000,
  defaultDrainingSeconds: 60,
  /** API request bodies larger than this are refused with a ValidationException. */
  apiBodyBytes: 1024 * 1024,
});
