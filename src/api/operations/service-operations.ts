import {
  createService,
  deleteService,
  getService,
  listServices,
  updateService,
} from '../../manager/services.js';
import { writeScope, type RestOperation } from '../rest-operation.js';
import { queryPage } from './query-params.js';

/** Service operations (spec §1.2). */
export const serviceOperations: RestOperation[] = [
  {
    name: 'CreateService',
    method: 'POST',
    path: '/services',
    successStatus: 201,
    idempotencyToken: true,
    bodyMembers: [
      'name',
      'tags',
      'customDomainName',
      'certificateArn',
      'authType',
      'idleTimeoutSeconds',
    ],
    handler: (scope, input) => createService(writeScope(scope), input.body),
  },
  {
    name: 'GetService',
    method: 'GET',
    path: '/services/{serviceIdentifier}',
    successStatus: 200,
    handler: (scope, input) => getService(scope, input.params.serviceIdentifier!),
  },
  {
    name: 'ListServices',
    method: 'GET',
    path: '/services',
    successStatus: 200,
    queryMembers: ['maxResults', 'nextToken'],
    handler: (scope, input) => listServices(scope, queryPage(input.query)),
  },
  {
    name: 'UpdateService',
    method: 'PATCH',
    path: '/services/{serviceIdentifier}',
    successStatus: 200,
    bodyMembers: ['certificateArn', 'authType', 'idleTimeoutSeconds'],
    handler: (scope, input) =>
      updateService(writeScope(scope), input.params.serviceIdentifier!, input.body),
  },
  {
    // spec §1.2: DeleteService answers 200 with a body, unlike DeleteServiceNetwork.
    name: 'DeleteService',
    method: 'DELETE',
    path: '/services/{serviceIdentifier}',
    successStatus: 200,
    handler: (scope, input) => deleteService(writeScope(scope), input.params.serviceIdentifier!),
  },
];
