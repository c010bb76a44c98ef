import type { RestOperation } from '../rest-operation.js';

/** Target group and target operations (spec §1.2). */
export const targetGroupOperations: RestOperation[] = [];
