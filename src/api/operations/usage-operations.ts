/**
 * Trellis's own usage API:
 *
 *   GET /_trellis/usage?hour=2026-11-26T11&serviceIdentifier=svc-…   GetUsage   200
 *       → { items: [{ serviceId, serviceArn, serviceName, hour, requests, bytesProcessed,
 *                     serviceHours, estimatedCharge }],
 *           totals: { requests, bytesProcessed, serviceHours, estimatedCharge },
 *           prices: { perServiceHour, perGbProcessed, perMillionRequests, freeRequestsPerHour } }
 *
 * IAM action `trellis:GetUsage`; a caller sees its own account's services.
 */
import { getUsage } from '../../manager/usage.js';
import type { RestOperation } from '../rest-operation.js';

/** GetUsage. */
export const usageOperations: RestOperation[] = [
  {
    name: 'GetUsage',
    method: 'GET',
    path: '/_trellis/usage',
    successStatus: 200,
    action: 'trellis:GetUsage',
    queryMembers: ['hour', 'serviceIdentifier'],
    handler: async (scope, input) => {
      const hour = input.query.get('hour');
      const serviceIdentifier = input.query.get('serviceIdentifier');
      const report = await getUsage(scope, {
        ...(hour ? { hour } : {}),
        ...(serviceIdentifier ? { serviceIdentifier } : {}),
      });
      return { ...report };
    },
  },
];
