import type { RestOperation } from '../rest-operation.js';

/** Service operations (spec §1.2). */
export const serviceOperations: RestOperation[] = [];
