/**
 * Trellis's security-group API (issue 8 §3), beside the inventory API and with its wire rules
 * (REST-JSON, SigV4 — signing name `vpc-lattice` or `trellis`, AWS error shapes); IAM actions
 * `trellis:<Operation>`. Groups belong to a VPC; SN–VPC associations name them in
 * `securityGroupIds`, and the data plane applies their inbound rules at that VPC's ingress.
 *
 *   POST   /_trellis/securitygroups                       CreateSecurityGroup 201
 *          { groupName (1–255, unique in the VPC), description?, vpcId,
 *            inboundRules?: [{ protocol: "tcp"|"-1", fromPort, toPort,
 *                              cidrIpv4 | cidrIpv6 | sourceSecurityGroupId, description? }],
 *            memberAddresses?: ["127.0.0.2"] (clients that carry the group), tags? }
 *          → SecurityGroup { groupId: "sg-" + 17 hex, groupName, description, vpcId,
 *                            ownerAccountId, inboundRules, memberAddresses, createdAt, tags? }
 *   GET    /_trellis/securitygroups/{groupId}             GetSecurityGroup 200 → SecurityGroup
 *   GET    /_trellis/securitygroups?vpcId&maxResults&nextToken  ListSecurityGroups → { items, nextToken? }
 *   POST   /_trellis/securitygroups/{groupId}/ingress     AuthorizeSecurityGroupIngress 200
 *          { inboundRules } → SecurityGroup; 409 for a rule the group already has
 *   POST   /_trellis/securitygroups/{groupId}/ingress/revoke  RevokeSecurityGroupIngress 200
 *          { inboundRules } → SecurityGroup; 404 for a rule the group does not have
 *   PUT    /_trellis/securitygroups/{groupId}/members     UpdateSecurityGroupMembers 200
 *          { memberAddresses } → SecurityGroup
 *   DELETE /_trellis/securitygroups/{groupId}             DeleteSecurityGroup 204; 409 while an
 *          association or another group's rule uses it
 */
import {
  authorizeSecurityGroupIngress,
  createSecurityGroup,
  deleteSecurityGroup,
  getSecurityGroup,
  listSecurityGroups,
  revokeSecurityGroupIngress,
  updateSecurityGroupMembers,
} from '../../manager/security-groups.js';
import { writeScope, type RestOperation } from '../rest-operation.js';
import { queryPage } from './query-params.js';

/** The security-group registry's operations. */
export const securityGroupOperations: RestOperation[] = [
  {
    name: 'CreateSecurityGroup',
    method: 'POST',
    path: '/_trellis/securitygroups',
    successStatus: 201,
    action: 'trellis:CreateSecurityGroup',
    bodyMembers: ['groupName', 'description', 'vpcId', 'inboundRules', 'memberAddresses', 'tags'],
    handler: (scope, input) => createSecurityGroup(writeScope(scope), input.body),
  },
  {
    name: 'GetSecurityGroup',
    method: 'GET',
    path: '/_trellis/securitygroups/{groupId}',
    successStatus: 200,
    action: 'trellis:GetSecurityGroup',
    handler: (scope, input) => getSecurityGroup(scope, input.params.groupId!),
  },
  {
    name: 'ListSecurityGroups',
    method: 'GET',
    path: '/_trellis/securitygroups',
    successStatus: 200,
    action: 'trellis:ListSecurityGroups',
    queryMembers: ['vpcId', 'maxResults', 'nextToken'],
    handler: (scope, input) => {
      const vpcId = input.query.get('vpcId');
      return listSecurityGroups(scope, {
        ...queryPage(input.query),
        ...(vpcId !== null ? { vpcId } : {}),
      });
    },
  },
  {
    name: 'AuthorizeSecurityGroupIngress',
    method: 'POST',
    path: '/_trellis/securitygroups/{groupId}/ingress',
    successStatus: 200,
    action: 'trellis:AuthorizeSecurityGroupIngress',
    bodyMembers: ['inboundRules'],
    handler: (scope, input) =>
      authorizeSecurityGroupIngress(writeScope(scope), input.params.groupId!, input.body),
  },
  {
    name: 'RevokeSecurityGroupIngress',
    method: 'POST',
    path: '/_trellis/securitygroups/{groupId}/ingress/revoke',
    successStatus: 200,
    action: 'trellis:RevokeSecurityGroupIngress',
    bodyMembers: ['inboundRules'],
    handler: (scope, input) =>
      revokeSecurityGroupIngress(writeScope(scope), input.params.groupId!, input.body),
  },
  {
    name: 'UpdateSecurityGroupMembers',
    method: 'PUT',
    path: '/_trellis/securitygroups/{groupId}/members',
    successStatus: 200,
    action: 'trellis:UpdateSecurityGroupMembers',
    bodyMembers: ['memberAddresses'],
    handler: (scope, input) =>
      updateSecurityGroupMembers(writeScope(scope), input.params.groupId!, input.body),
  },
  {
    name: 'DeleteSecurityGroup',
    method: 'DELETE',
    path: '/_trellis/securitygroups/{groupId}',
    successStatus: 204,
    action: 'trellis:DeleteSecurityGroup',
    handler: async (scope, input) => {
      await deleteSecurityGroup(writeScope(scope), input.params.groupId!);
      return undefined;
    },
  },
];
