/**
 * AWS Resource Access Manager (RAM) shapes Trellis keeps for cross-account sharing of service
 * networks and services (issue 8 §4). Wire names follow the RAM API (`resourceShareArn`,
 * `owningAccountId`, …) so stored data renders as the service answers.
 */

/** A tag as RAM spells it (lower-case `key`/`value`, unlike Lattice's map). */
export interface RamTag {
  key: string;
  value?: string;
}

/** `ACTIVE` shares grant; `DELETED` ones stay listed (as in RAM) but grant nothing. */
export type ResourceShareStatus = 'PENDING' | 'ACTIVE' | 'FAILED' | 'DELETING' | 'DELETED';

/** Status of one resource or principal in a share (RAM `ResourceShareAssociation.status`). */
export type ShareAssociationStatus =
  'ASSOCIATING' | 'ASSOCIATED' | 'FAILED' | 'DISASSOCIATING' | 'DISASSOCIATED';

export type ResourceShareInvitationStatus = 'PENDING' | 'ACCEPTED' | 'REJECTED' | 'EXPIRED';

/** A resource in a share: a Lattice service network or service of the owner. */
export interface SharedResourceEntry {
  arn: string;
  /** RAM resource type, e.g. `vpc-lattice:Service`. */
  type: string;
  status: ShareAssociationStatus;
  statusMessage?: string;
  creationTime: string;
  lastUpdatedTime: string;
}

/** A principal of a share: a 12-digit account id or an organization ARN. */
export interface SharePrincipalEntry {
  id: string;
  status: ShareAssociationStatus;
  statusMessage?: string;
  /** True for an account outside the owner's organization (it must accept an invitation). */
  external: boolean;
  creationTime: string;
  lastUpdatedTime: string;
}

export interface ResourceShare {
  resourceShareArn: string;
  name: string;
  owningAccountId: string;
  allowExternalPrincipals: boolean;
  status: ResourceShareStatus;
  statusMessage?: string;
  tags?: RamTag[];
  creationTime: string;
  lastUpdatedTime: string;
  featureSet: 'STANDARD';
  resources: SharedResourceEntry[];
  principals: SharePrincipalEntry[];
}

export interface ResourceShareInvitation {
  resourceShareInvitationArn: string;
  resourceShareName: string;
  resourceShareArn: string;
  senderAccountId: string;
  receiverAccountId: string;
  invitationTimestamp: string;
  status: ResourceShareInvitationStatus;
}

/** RAM resource types of the Lattice resources Trellis shares, by ARN resource prefix. */
export const RAM_SHAREABLE_TYPES = {
  servicenetwork: 'vpc-lattice:ServiceNetwork',
  service: 'vpc-lattice:Service',
} as const;

/** `arn:{partition}:organizations::{management account}:organization/o-…` */
export const ORGANIZATION_ARN_PATTERN =
  /^arn:[a-z-]+:organizations::\d{12}:organization\/(o-[a-z0-9]{10,32})$/;

export const ACCOUNT_ID_PATTERN = /^\d{12}$/;

/** Generic ARN shape: `arn:partition:service:region:account:resource`. */
export const ARN_PATTERN = /^arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:.+$/;

export function resourceShareArn(
  partition: string,
  region: string,
  accountId: string,
  id: string,
): string {
  return `arn:${partition}:ram:${region}:${accountId}:resource-share/${id}`;
}

export function resourceShareInvitationArn(
  partition: string,
  region: string,
  accountId: string,
  id: string,
): string {
  return `arn:${partition}:ram:${region}:${accountId}:resource-share-invitation/${id}`;
}
