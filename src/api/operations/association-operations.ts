import {
  createServiceNetworkServiceAssociation,
  createServiceNetworkVpcAssociation,
  deleteServiceNetworkServiceAssociation,
  deleteServiceNetworkVpcAssociation,
  getServiceNetworkServiceAssociation,
  getServiceNetworkVpcAssociation,
  listServiceNetworkServiceAssociations,
  listServiceNetworkVpcAssociations,
  updateServiceNetworkVpcAssociation,
} from '../../manager/associations.js';
import { writeScope, type RestOperation } from '../rest-operation.js';
import { queryPage } from './query-params.js';

/** Copies the named query members that are present. */
function queryFilters<K extends string>(
  query: URLSearchParams,
  names: readonly K[],
): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const n of names) {
    const v = query.get(n);
    if (v !== null) out[n] = v;
  }
  return out;
}

/** Service-network association operations (spec §1.2). */
export const associationOperations: RestOperation[] = [
  {
    name: 'CreateServiceNetworkServiceAssociation',
    method: 'POST',
    path: '/servicenetworkserviceassociations',
    successStatus: 200,
    idempotencyToken: true,
    bodyMembers: ['serviceIdentifier', 'serviceNetworkIdentifier', 'tags'],
    handler: (scope, input) =>
      createServiceNetworkServiceAssociation(writeScope(scope), input.body),
  },
  {
    name: 'GetServiceNetworkServiceAssociation',
    method: 'GET',
    path: '/servicenetworkserviceassociations/{serviceNetworkServiceAssociationIdentifier}',
    successStatus: 200,
    handler: (scope, input) =>
      getServiceNetworkServiceAssociation(
        scope,
        input.params.serviceNetworkServiceAssociationIdentifier!,
      ),
  },
  {
    name: 'ListServiceNetworkServiceAssociations',
    method: 'GET',
    path: '/servicenetworkserviceassociations',
    successStatus: 200,
    queryMembers: ['serviceNetworkIdentifier', 'serviceIdentifier', 'maxResults', 'nextToken'],
    handler: (scope, input) =>
      listServiceNetworkServiceAssociations(scope, {
        ...queryPage(input.query),
        ...queryFilters(input.query, ['serviceNetworkIdentifier', 'serviceIdentifier']),
      }),
  },
  {
    name: 'DeleteServiceNetworkServiceAssociation',
    method: 'DELETE',
    path: '/servicenetworkserviceassociations/{serviceNetworkServiceAssociationIdentifier}',
    successStatus: 200,
    handler: (scope, input) =>
      deleteServiceNetworkServiceAssociation(
        writeScope(scope),
        input.params.serviceNetworkServiceAssociationIdentifier!,
      ),
  },
  {
    name: 'CreateServiceNetworkVpcAssociation',
    method: 'POST',
    path: '/servicenetworkvpcassociations',
    successStatus: 200,
    idempotencyToken: true,
    bodyMembers: [
      'serviceNetworkIdentifier',
      'vpcIdentifier',
      'privateDnsEnabled',
      'securityGroupIds',
      'tags',
      'dnsOptions',
    ],
    handler: (scope, input) => createServiceNetworkVpcAssociation(writeScope(scope), input.body),
  },
  {
    name: 'GetServiceNetworkVpcAssociation',
    method: 'GET',
    path: '/servicenetworkvpcassociations/{serviceNetworkVpcAssociationIdentifier}',
    successStatus: 200,
    handler: (scope, input) =>
      getServiceNetworkVpcAssociation(scope, input.params.serviceNetworkVpcAssociationIdentifier!),
  },
  {
    name: 'ListServiceNetworkVpcAssociations',
    method: 'GET',
    path: '/servicenetworkvpcassociations',
    successStatus: 200,
    queryMembers: ['serviceNetworkIdentifier', 'vpcIdentifier', 'maxResults', 'nextToken'],
    handler: (scope, input) =>
      listServiceNetworkVpcAssociations(scope, {
        ...queryPage(input.query),
        ...queryFilters(input.query, ['serviceNetworkIdentifier', 'vpcIdentifier']),
      }),
  },
  {
    name: 'UpdateServiceNetworkVpcAssociation',
    method: 'PATCH',
    path: '/servicenetworkvpcassociations/{serviceNetworkVpcAssociationIdentifier}',
    successStatus: 200,
    bodyMembers: ['securityGroupIds'],
    handler: (scope, input) =>
      updateServiceNetworkVpcAssociation(
        writeScope(scope),
        input.params.serviceNetworkVpcAssociationIdentifier!,
        input.body,
      ),
  },
  {
    name: 'DeleteServiceNetworkVpcAssociation',
    method: 'DELETE',
    path: '/servicenetworkvpcassociations/{serviceNetworkVpcAssociationIdentifier}',
    successStatus: 200,
    handler: (scope, input) =>
      deleteServiceNetworkVpcAssociation(
        writeScope(scope),
        input.params.serviceNetworkVpcAssociationIdentifier!,
      ),
  },
];
