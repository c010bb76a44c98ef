/**
 * Trellis's own auth simulator (spec §2):
 *
 *   POST /_trellis/auth/simulate   SimulateAuth   200
 *        { principal: "<ARN>" | "anonymous", service: id|ARN|name, serviceNetwork?, method?: "GET",
 *          path?: "/", headers?: {name: value}, query?: {key: value | [values]}, sourceVpc?,
 *          sourceIp?, port?, sessionTags? }
 *        → { decision: "ALLOW"|"DENY", allowed, authDeniedReason?, explicitDeny, status, message,
 *            principal, action, resource, serviceArn, serviceNetworkArn?, path,
 *            levels: [{ level, authType?, effect, policies: [{ name?, attachedTo?, effect,
 *            statement?: { index, sid? } }] }], identityHeaders?, explanation: string[], notes? }
 *
 * A read: nothing is written, even though the binding is a POST (the input is a request body).
 */
import { simulateAuth } from '../../manager/auth-simulate.js';
import type { RestOperation } from '../rest-operation.js';

/** `SimulateAuth`: decides and explains a hypothetical data-plane request. */
export const authSimulateOperations: RestOperation[] = [
  {
    name: 'SimulateAuth',
    method: 'POST',
    path: '/_trellis/auth/simulate',
    successStatus: 200,
    action: 'trellis:SimulateAuth',
    bodyMembers: [
      'principal',
      'service',
      'serviceNetwork',
      'method',
      'path',
      'headers',
      'query',
      'sourceVpc',
      'sourceIp',
      'port',
      'sessionTags',
    ],
    handler: (scope, input) => simulateAuth(scope, input.body),
  },
];
