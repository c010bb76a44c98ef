/**
 * Errors of the policy grammar (spec §2): a violation names where in the document the problem
 * sits (`Statement[1].Condition`) so the control plane can answer PutAuthPolicy with a message a
 * person can act on.
 */

/** One problem found in a policy document. */
export interface PolicyViolation {
  /** Where in the document, e.g. `Statement[1].Condition.StringEquals`; `` for the whole text. */
  readonly path: string;
  readonly message: string;
}

/** Thrown by `parsePolicy`; `violations` holds every problem, `message`/`path` the first. */
export class PolicyValidationError extends Error {
  override readonly name = 'PolicyValidationError';
  readonly code = 'MalformedPolicyDocument';
  readonly path: string;
  readonly violations: readonly PolicyViolation[];

  constructor(violations: readonly PolicyViolation[]) {
    const first = violations[0] ?? { path: '', message: 'Invalid policy document' };
    super(first.message);
    this.path = first.path;
    this.violations = violations;
  }
}
