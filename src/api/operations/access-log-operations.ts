import type { RestOperation } from '../rest-operation.js';

/** Access-log subscription operations (spec §1.2). */
export const accessLogOperations: RestOperation[] = [];
