import { accessLogOperations } from './operations/access-log-operations.js';
import { associationOperations } from './operations/association-operations.js';
import { authSimulateOperations } from './operations/auth-simulate-operations.js';
import { inventoryOperations } from './operations/inventory-operations.js';
import { listenerOperations } from './operations/listener-operations.js';
import { policyOperations } from './operations/policy-operations.js';
import { ruleOperations } from './operations/rule-operations.js';
import { serviceNetworkOperations } from './operations/service-network-operations.js';
import { securityGroupOperations } from './operations/security-group-operations.js';
import { serviceOperations } from './operations/service-operations.js';
import { tagOperations } from './operations/tag-operations.js';
import { targetGroupOperations } from './operations/target-group-operations.js';
import { unsupportedOperations } from './operations/unsupported-operations.js';
import { usageOperations } from './operations/usage-operations.js';
import type { RestOperation } from './rest-operation.js';

/** Every REST-JSON operation the control plane answers: the Lattice API plus Trellis's own. */
export const LATTICE_OPERATIONS: readonly RestOperation[] = [
  ...serviceNetworkOperations,
  ...serviceOperations,
  ...listenerOperations,
  ...ruleOperations,
  ...targetGroupOperations,
  ...associationOperations,
  ...policyOperations,
  ...accessLogOperations,
  ...tagOperations,
  ...unsupportedOperations,
  ...inventoryOperations,
  ...securityGroupOperations,
  ...authSimulateOperations,
  ...usageOperations,
];
