import { NotSupportedYet } from '../../errors/aws-errors.js';
import type { HttpMethod, RestOperation } from '../rest-operation.js';

/**
 * Lattice operations Trellis does not implement yet: they answer a well-formed
 * ValidationException (reason `unknownOperation`) that names the operation — never a crash, a
 * hang or a fake success.
 */
const UNSUPPORTED: [string, HttpMethod, string][] = [
  ['CreateResourceGateway', 'POST', '/resourcegateways'],
  ['GetResourceGateway', 'GET', '/resourcegateways/{resourceGatewayIdentifier}'],
  ['ListResourceGateways', 'GET', '/resourcegateways'],
  ['UpdateResourceGateway', 'PATCH', '/resourcegateways/{resourceGatewayIdentifier}'],
  ['DeleteResourceGateway', 'DELETE', '/resourcegateways/{resourceGatewayIdentifier}'],
  ['CreateResourceConfiguration', 'POST', '/resourceconfigurations'],
  ['GetResourceConfiguration', 'GET', '/resourceconfigurations/{resourceConfigurationIdentifier}'],
  ['ListResourceConfigurations', 'GET', '/resourceconfigurations'],
  [
    'UpdateResourceConfiguration',
    'PATCH',
    '/resourceconfigurations/{resourceConfigurationIdentifier}',
  ],
  [
    'DeleteResourceConfiguration',
    'DELETE',
    '/resourceconfigurations/{resourceConfigurationIdentifier}',
  ],
  ['ListResourceEndpointAssociations', 'GET', '/resourceendpointassociations'],
  [
    'DeleteResourceEndpointAssociation',
    'DELETE',
    '/resourceendpointassociations/{resourceEndpointAssociationIdentifier}',
  ],
  ['CreateServiceNetworkResourceAssociation', 'POST', '/servicenetworkresourceassociations'],
  [
    'GetServiceNetworkResourceAssociation',
    'GET',
    '/servicenetworkresourceassociations/{serviceNetworkResourceAssociationIdentifier}',
  ],
  ['ListServiceNetworkResourceAssociations', 'GET', '/servicenetworkresourceassociations'],
  [
    'DeleteServiceNetworkResourceAssociation',
    'DELETE',
    '/servicenetworkresourceassociations/{serviceNetworkResourceAssociationIdentifier}',
  ],
  ['StartDomainVerification', 'POST', '/domainverifications'],
  ['GetDomainVerification', 'GET', '/domainverifications/{domainVerificationIdentifier}'],
  ['ListDomainVerifications', 'GET', '/domainverifications'],
  ['DeleteDomainVerification', 'DELETE', '/domainverifications/{domainVerificationIdentifier}'],
  ['ListServiceNetworkVpcEndpointAssociations', 'GET', '/servicenetworkvpcendpointassociations'],
];

export const unsupportedOperations: RestOperation[] = UNSUPPORTED.map(([name, method, path]) => ({
  name,
  method,
  path,
  successStatus: 200,
  // Accept any members: the answer is the same whatever the request holds.
  anyMembers: true,
  handler: async () => {
    throw new NotSupportedYet(name);
  },
}));
