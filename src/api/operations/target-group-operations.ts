import {
  createTargetGroup,
  deleteTargetGroup,
  getTargetGroup,
  listTargetGroups,
  updateTargetGroup,
} from '../../manager/target-groups.js';
import { deregisterTargets, listTargets, registerTargets } from '../../manager/targets.js';
import { writeScope, type RestOperation } from '../rest-operation.js';
import { queryPage } from './query-params.js';

/** Target group and target operations (spec §1.2). */
export const targetGroupOperations: RestOperation[] = [
  {
    name: 'CreateTargetGroup',
    method: 'POST',
    path: '/targetgroups',
    successStatus: 201,
    idempotencyToken: true,
    bodyMembers: ['name', 'type', 'config', 'tags'],
    handler: (scope, input) => createTargetGroup(writeScope(scope), input.body),
  },
  {
    name: 'GetTargetGroup',
    method: 'GET',
    path: '/targetgroups/{targetGroupIdentifier}',
    successStatus: 200,
    handler: (scope, input) => getTargetGroup(scope, input.params.targetGroupIdentifier!),
  },
  {
    name: 'ListTargetGroups',
    method: 'GET',
    path: '/targetgroups',
    successStatus: 200,
    queryMembers: ['maxResults', 'nextToken', 'vpcIdentifier', 'targetGroupType'],
    handler: (scope, input) => {
      const query: Parameters<typeof listTargetGroups>[1] = queryPage(input.query);
      const vpc = input.query.get('vpcIdentifier');
      const type = input.query.get('targetGroupType');
      if (vpc !== null) query.vpcIdentifier = vpc;
      if (type !== null) query.targetGroupType = type;
      return listTargetGroups(scope, query);
    },
  },
  {
    name: 'UpdateTargetGroup',
    method: 'PATCH',
    path: '/targetgroups/{targetGroupIdentifier}',
    successStatus: 200,
    bodyMembers: ['healthCheck'],
    handler: (scope, input) =>
      updateTargetGroup(writeScope(scope), input.params.targetGroupIdentifier!, input.body),
  },
  {
    name: 'DeleteTargetGroup',
    method: 'DELETE',
    path: '/targetgroups/{targetGroupIdentifier}',
    successStatus: 200,
    handler: (scope, input) =>
      deleteTargetGroup(writeScope(scope), input.params.targetGroupIdentifier!),
  },
  {
    name: 'RegisterTargets',
    method: 'POST',
    path: '/targetgroups/{targetGroupIdentifier}/registertargets',
    successStatus: 200,
    bodyMembers: ['targets'],
    handler: (scope, input) =>
      registerTargets(writeScope(scope), input.params.targetGroupIdentifier!, input.body),
  },
  {
    name: 'DeregisterTargets',
    method: 'POST',
    path: '/targetgroups/{targetGroupIdentifier}/deregistertargets',
    successStatus: 200,
    bodyMembers: ['targets'],
    handler: (scope, input) =>
      deregisterTargets(writeScope(scope), input.params.targetGroupIdentifier!, input.body),
  },
  {
    name: 'ListTargets',
    method: 'POST',
    path: '/targetgroups/{targetGroupIdentifier}/listtargets',
    successStatus: 200,
    bodyMembers: ['targets'],
    queryMembers: ['maxResults', 'nextToken'],
    handler: (scope, input) =>
      listTargets(
        writeScope(scope),
        input.params.targetGroupIdentifier!,
        input.body,
        queryPage(input.query),
      ),
  },
];
