import { deleteAuthPolicy, getAuthPolicy, putAuthPolicy } from '../../manager/auth-policies.js';
import {
  deleteResourcePolicy,
  getResourcePolicy,
  putResourcePolicy,
} from '../../manager/resource-policies.js';
import { writeScope, type RestOperation } from '../rest-operation.js';

/** Auth policy and resource policy operations (spec §1.2). */
export const policyOperations: RestOperation[] = [
  {
    name: 'PutAuthPolicy',
    method: 'PUT',
    path: '/authpolicy/{resourceIdentifier}',
    successStatus: 200,
    bodyMembers: ['policy'],
    handler: (scope, input) =>
      putAuthPolicy(writeScope(scope), input.params.resourceIdentifier!, input.body),
  },
  {
    name: 'GetAuthPolicy',
    method: 'GET',
    path: '/authpolicy/{resourceIdentifier}',
    successStatus: 200,
    handler: (scope, input) => getAuthPolicy(scope, input.params.resourceIdentifier!),
  },
  {
    name: 'DeleteAuthPolicy',
    method: 'DELETE',
    path: '/authpolicy/{resourceIdentifier}',
    successStatus: 204,
    handler: async (scope, input) => {
      await deleteAuthPolicy(writeScope(scope), input.params.resourceIdentifier!);
      return undefined;
    },
  },
  {
    name: 'PutResourcePolicy',
    method: 'PUT',
    path: '/resourcepolicy/{resourceArn}',
    successStatus: 200,
    bodyMembers: ['policy'],
    handler: (scope, input) =>
      putResourcePolicy(writeScope(scope), input.params.resourceArn!, input.body),
  },
  {
    name: 'GetResourcePolicy',
    method: 'GET',
    path: '/resourcepolicy/{resourceArn}',
    successStatus: 200,
    handler: (scope, input) => getResourcePolicy(scope, input.params.resourceArn!),
  },
  {
    name: 'DeleteResourcePolicy',
    method: 'DELETE',
    path: '/resourcepolicy/{resourceArn}',
    successStatus: 204,
    handler: async (scope, input) => {
      await deleteResourcePolicy(writeScope(scope), input.params.resourceArn!);
      return undefined;
    },
  },
];
