import {
  createAccessLogSubscription,
  deleteAccessLogSubscription,
  getAccessLogSubscription,
  listAccessLogSubscriptions,
  updateAccessLogSubscription,
} from '../../manager/access-log-subscriptions.js';
import { writeScope, type RestOperation } from '../rest-operation.js';
import { queryPage } from './query-params.js';

/** Access-log subscription operations (spec §1.2). */
export const accessLogOperations: RestOperation[] = [
  {
    name: 'CreateAccessLogSubscription',
    method: 'POST',
    path: '/accesslogsubscriptions',
    successStatus: 201,
    idempotencyToken: true,
    bodyMembers: ['resourceIdentifier', 'destinationArn', 'serviceNetworkLogType', 'tags'],
    handler: (scope, input) => createAccessLogSubscription(writeScope(scope), input.body),
  },
  {
    name: 'GetAccessLogSubscription',
    method: 'GET',
    path: '/accesslogsubscriptions/{accessLogSubscriptionIdentifier}',
    successStatus: 200,
    handler: (scope, input) =>
      getAccessLogSubscription(scope, input.params.accessLogSubscriptionIdentifier!),
  },
  {
    name: 'ListAccessLogSubscriptions',
    method: 'GET',
    path: '/accesslogsubscriptions',
    successStatus: 200,
    queryMembers: ['resourceIdentifier', 'maxResults', 'nextToken'],
    handler: (scope, input) => {
      const resourceIdentifier = input.query.get('resourceIdentifier');
      return listAccessLogSubscriptions(scope, {
        ...queryPage(input.query),
        ...(resourceIdentifier !== null ? { resourceIdentifier } : {}),
      });
    },
  },
  {
    name: 'UpdateAccessLogSubscription',
    method: 'PATCH',
    path: '/accesslogsubscriptions/{accessLogSubscriptionIdentifier}',
    successStatus: 200,
    bodyMembers: ['destinationArn'],
    handler: (scope, input) =>
      updateAccessLogSubscription(
        writeScope(scope),
        input.params.accessLogSubscriptionIdentifier!,
        input.body,
      ),
  },
  {
    name: 'DeleteAccessLogSubscription',
    method: 'DELETE',
    path: '/accesslogsubscriptions/{accessLogSubscriptionIdentifier}',
    successStatus: 204,
    handler: async (scope, input) => {
      await deleteAccessLogSubscription(
        writeScope(scope),
        input.params.accessLogSubscriptionIdentifier!,
      );
      return undefined;
    },
  },
];
