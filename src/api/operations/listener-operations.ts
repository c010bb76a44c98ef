import {
  createListener,
  deleteListener,
  getListener,
  listListeners,
  updateListener,
} from '../../manager/listeners.js';
import { writeScope, type RestOperation } from '../rest-operation.js';
import { queryPage } from './query-params.js';

const LISTENER_PATH = '/services/{serviceIdentifier}/listeners/{listenerIdentifier}';

/** Listener operations (spec §1.2). */
export const listenerOperations: RestOperation[] = [
  {
    name: 'CreateListener',
    method: 'POST',
    path: '/services/{serviceIdentifier}/listeners',
    successStatus: 201,
    idempotencyToken: true,
    bodyMembers: ['name', 'protocol', 'port', 'defaultAction', 'tags'],
    handler: (scope, input) =>
      createListener(writeScope(scope), input.params.serviceIdentifier!, input.body),
  },
  {
    name: 'GetListener',
    method: 'GET',
    path: LISTENER_PATH,
    successStatus: 200,
    handler: (scope, input) =>
      getListener(scope, input.params.serviceIdentifier!, input.params.listenerIdentifier!),
  },
  {
    name: 'ListListeners',
    method: 'GET',
    path: '/services/{serviceIdentifier}/listeners',
    successStatus: 200,
    queryMembers: ['maxResults', 'nextToken'],
    handler: (scope, input) =>
      listListeners(scope, input.params.serviceIdentifier!, queryPage(input.query)),
  },
  {
    name: 'UpdateListener',
    method: 'PATCH',
    path: LISTENER_PATH,
    successStatus: 200,
    bodyMembers: ['defaultAction'],
    handler: (scope, input) =>
      updateListener(
        writeScope(scope),
        input.params.serviceIdentifier!,
        input.params.listenerIdentifier!,
        input.body,
      ),
  },
  {
    name: 'DeleteListener',
    method: 'DELETE',
    path: LISTENER_PATH,
    successStatus: 204,
    handler: async (scope, input) => {
      await deleteListener(
        writeScope(scope),
        input.params.serviceIdentifier!,
        input.params.listenerIdentifier!,
      );
      return undefined;
    },
  },
];
