import type { RestOperation } from '../rest-operation.js';

/** Listener operations (spec §1.2). */
export const listenerOperations: RestOperation[] = [];
