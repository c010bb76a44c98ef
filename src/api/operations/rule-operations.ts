import {
  batchUpdateRule,
  createRule,
  deleteRule,
  getRule,
  listRules,
  updateRule,
} from '../../manager/rules.js';
import { writeScope, type RestOperation } from '../rest-operation.js';
import { queryPage } from './query-params.js';

const RULES_PATH = '/services/{serviceIdentifier}/listeners/{listenerIdentifier}/rules';
const RULE_PATH = `${RULES_PATH}/{ruleIdentifier}`;

/** Rule operations (spec §1.2). */
export const ruleOperations: RestOperation[] = [
  {
    name: 'CreateRule',
    method: 'POST',
    path: RULES_PATH,
    successStatus: 201,
    idempotencyToken: true,
    bodyMembers: ['name', 'match', 'priority', 'action', 'tags'],
    handler: (scope, input) =>
      createRule(
        writeScope(scope),
        input.params.serviceIdentifier!,
        input.params.listenerIdentifier!,
        input.body,
      ),
  },
  {
    name: 'GetRule',
    method: 'GET',
    path: RULE_PATH,
    successStatus: 200,
    handler: (scope, input) =>
      getRule(
        scope,
        input.params.serviceIdentifier!,
        input.params.listenerIdentifier!,
        input.params.ruleIdentifier!,
      ),
  },
  {
    name: 'ListRules',
    method: 'GET',
    path: RULES_PATH,
    successStatus: 200,
    queryMembers: ['maxResults', 'nextToken'],
    handler: (scope, input) =>
      listRules(
        scope,
        input.params.serviceIdentifier!,
        input.params.listenerIdentifier!,
        queryPage(input.query),
      ),
  },
  {
    name: 'UpdateRule',
    method: 'PATCH',
    path: RULE_PATH,
    successStatus: 200,
    bodyMembers: ['match', 'priority', 'action'],
    handler: (scope, input) =>
      updateRule(
        writeScope(scope),
        input.params.serviceIdentifier!,
        input.params.listenerIdentifier!,
        input.params.ruleIdentifier!,
        input.body,
      ),
  },
  {
    // spec §1.5: partial success — failures are listed in `unsuccessful`, the call answers 200.
    name: 'BatchUpdateRule',
    method: 'PATCH',
    path: RULES_PATH,
    successStatus: 200,
    bodyMembers: ['rules'],
    handler: (scope, input) =>
      batchUpdateRule(
        writeScope(scope),
        input.params.serviceIdentifier!,
        input.params.listenerIdentifier!,
        input.body,
      ),
  },
  {
    name: 'DeleteRule',
    method: 'DELETE',
    path: RULE_PATH,
    successStatus: 204,
    handler: async (scope, input) => {
      await deleteRule(
        writeScope(scope),
        input.params.serviceIdentifier!,
        input.params.listenerIdentifier!,
        input.params.ruleIdentifier!,
      );
      return undefined;
    },
  },
];
