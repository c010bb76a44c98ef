import type { RestOperation } from '../rest-operation.js';

/** Rule operations (spec §1.2). */
export const ruleOperations: RestOperation[] = [];
