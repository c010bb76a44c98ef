import type { RestOperation } from '../rest-operation.js';

/** Auth policy and resource policy operations (spec §1.2). */
export const policyOperations: RestOperation[] = [];
