import type { RestOperation } from '../rest-operation.js';

/** Trellis's own inventory API: VPCs, instances, load balancers. */
export const inventoryOperations: RestOperation[] = [];
