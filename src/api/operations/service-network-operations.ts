import {
  createServiceNetwork,
  deleteServiceNetwork,
  getServiceNetwork,
  listServiceNetworks,
  updateServiceNetwork,
} from '../../manager/service-networks.js';
import { writeScope, type RestOperation } from '../rest-operation.js';
import { queryPage } from './query-params.js';

/** Service-network operations (spec §1.2). */
export const serviceNetworkOperations: RestOperation[] = [
  {
    name: 'CreateServiceNetwork',
    method: 'POST',
    path: '/servicenetworks',
    successStatus: 201,
    idempotencyToken: true,
    bodyMembers: ['name', 'authType', 'tags', 'sharingConfig'],
    handler: (scope, input) => createServiceNetwork(writeScope(scope), input.body),
  },
  {
    name: 'GetServiceNetwork',
    method: 'GET',
    path: '/servicenetworks/{serviceNetworkIdentifier}',
    successStatus: 200,
    handler: (scope, input) => getServiceNetwork(scope, input.params.serviceNetworkIdentifier!),
  },
  {
    name: 'ListServiceNetworks',
    method: 'GET',
    path: '/servicenetworks',
    successStatus: 200,
    queryMembers: ['maxResults', 'nextToken'],
    handler: (scope, input) => listServiceNetworks(scope, queryPage(input.query)),
  },
  {
    name: 'UpdateServiceNetwork',
    method: 'PATCH',
    path: '/servicenetworks/{serviceNetworkIdentifier}',
    successStatus: 200,
    bodyMembers: ['authType'],
    handler: (scope, input) =>
      updateServiceNetwork(writeScope(scope), input.params.serviceNetworkIdentifier!, input.body),
  },
  {
    name: 'DeleteServiceNetwork',
    method: 'DELETE',
    path: '/servicenetworks/{serviceNetworkIdentifier}',
    successStatus: 204,
    handler: async (scope, input) => {
      await deleteServiceNetwork(writeScope(scope), input.params.serviceNetworkIdentifier!);
      return undefined;
    },
  },
];
