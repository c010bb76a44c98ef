import type { RestOperation } from '../rest-operation.js';

/** Tagging operations (spec §1.2). */
export const tagOperations: RestOperation[] = [];
