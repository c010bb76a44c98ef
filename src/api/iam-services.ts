/**
 * The IAM and STS Query services and the management authorizer, built together so the
 * composition root wires them with one call (issue auth §1).
 */
import type { ManagerContext } from '../manager/manager-context.js';
import type { ApiLogger, QueryProtocolHandler } from './api-server.js';
import {
  createManagementAuthorizer,
  type IdentityAuthorizer,
  type RevisionedStore,
} from './management-authorizer.js';
import { iamQueryOperations } from './operations/iam-query-operations.js';
import { stsQueryOperations } from './operations/sts-query-operations.js';
import {
  createQueryService,
  IAM_NAMESPACE,
  IAM_VERSION,
  STS_NAMESPACE,
  STS_VERSION,
} from './query-protocol.js';

/** What `createApiServer` takes: `queryServices: { iam, sts }` and `authorizer`. */
export interface IamQueryServices {
  authorizer: IdentityAuthorizer;
  queryServices: Record<'iam' | 'sts', QueryProtocolHandler>;
}

/** Builds IAM (`2010-05-08`) and STS (`2011-06-15`) over one store and one authorizer. */
export function createIamQueryServices(options: {
  store: RevisionedStore;
  ctx: ManagerContext;
  logger?: ApiLogger;
}): IamQueryServices {
  const authorizer = createManagementAuthorizer({ store: options.store, ctx: options.ctx });
  const common = { store: options.store, ctx: options.ctx, authorizer, logger: options.logger };
  return {
    authorizer,
    queryServices: {
      iam: createQueryService({
        ...common,
        namespace: IAM_NAMESPACE,
        version: IAM_VERSION,
        operations: iamQueryOperations,
      }),
      sts: createQueryService({
        ...common,
        namespace: STS_NAMESPACE,
        version: STS_VERSION,
        operations: stsQueryOperations,
      }),
    },
  };
}
