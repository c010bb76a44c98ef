import type { RestOperation } from '../rest-operation.js';

/** Service-network association operations (spec §1.2). */
export const associationOperations: RestOperation[] = [];
