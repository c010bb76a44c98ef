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
export {
  chainKeys,
  createPrincipalKeys,
  createStaticKeys,
  createTimeKeys,
  emptyKeys,
  type AuthorizationContext,
  type AuthorizationPrincipal,
  type ConditionKeyReader,
} from './condition-keys.js';
export {
  CompiledPolicy,
  compilePolicy,
  evaluatePolicy,
  type PolicyLabel,
  type PolicyVerdict,
} from './compile-policy.js';
export {
  authorizeLatticeRequest,
  explainDecision,
  formatDenialMessage,
  latticeRequestAllowed,
  type LatticeAuthLevel,
  type LatticeAuthLevelName,
  type LatticeAuthorizationInput,
  type LatticeDecision,
  type LevelVerdict,
  type PolicyOutcome,
} from './authorize-lattice.js';
export { compileWildcard, type WildcardMatcher } from './wildcard.js';
