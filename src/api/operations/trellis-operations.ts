import { AccessDeniedException } from '../../errors/aws-errors.js';
import { accountRootArn, createAccount } from '../../manager/accounts.js';
import type { OperationScope } from '../../manager/manager-context.js';
import { writeScope, type RestOperation } from '../rest-operation.js';

function requireOperator(scope: OperationScope): void {
  const rootArn = accountRootArn(scope.ctx.partition, scope.ctx.operatorAccountId);
  if (scope.caller.principalArn !== rootArn) {
    throw new AccessDeniedException(
      `User: ${scope.caller.principalArn} is not authorized to perform: trellis:CreateAccount. Only the root of the operator account ${scope.ctx.operatorAccountId} may manage accounts.`,
    );
  }
}

/** Trellis's own operations (path prefix `/_trellis/`): accounts. */
export const trellisOperations: RestOperation[] = [
  {
    name: 'CreateAccount',
    method: 'POST',
    path: '/_trellis/accounts',
    successStatus: 201,
    action: 'trellis:CreateAccount',
    bodyMembers: ['accountId', 'organizationId'],
    handler: async (scope, input) => {
      requireOperator(scope);
      const w = writeScope(scope);
      return createAccount(w.tx, scope.ctx.partition, input.body, scope.ctx.now());
    },
  },
];
