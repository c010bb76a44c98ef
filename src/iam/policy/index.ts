/** IAM policy engine (spec §2): parse → compile → evaluate → explain. */
export { parsePolicy, validatePolicy } from './parse-policy.js';
export { PolicyValidationError, type PolicyViolation } from './policy-errors.js';
export type {
  ParsePolicyOptions,
  PolicyCondition,
  PolicyDocument,
  PolicyKind,
  PolicyPrincipal,
  PolicyStatement,
  PolicyVersion,
} from './policy-types.js';
export {
  CONDITION_OPERATORS,
  VALID_OPERATORS_TEXT,
  type OperatorFamily,
} from './condition-operators.js';
