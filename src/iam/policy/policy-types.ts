/**
 * The normalised shape of an IAM policy document (spec §2): every "string or list" element is a
 * list, condition values are strings, so compile never has to look at raw JSON again.
 */

/** Which kind of policy a text is; decides whether `Principal` is required or forbidden. */
export type PolicyKind = 'resource' | 'identity' | 'trust';

export type PolicyVersion = '2012-10-17' | '2008-10-17';

/** `"*"` or a map of principal type to values (`AWS`, `Service`, `Federated`, `CanonicalUser`). */
export type PolicyPrincipal =
  | '*'
  | {
      readonly AWS?: readonly string[];
      readonly Service?: readonly string[];
      readonly Federated?: readonly string[];
      readonly CanonicalUser?: readonly string[];
    };

/** operator (as written, e.g. `ForAnyValue:StringLike`) → condition key → values (OR). */
export type PolicyCondition = Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: PolicyPrincipal;
  readonly NotPrincipal?: PolicyPrincipal;
  readonly Action?: readonly string[];
  readonly NotAction?: readonly string[];
  readonly Resource?: readonly string[];
  readonly NotResource?: readonly string[];
  readonly Condition?: PolicyCondition;
}

export interface PolicyDocument {
  /** Absent means the 2008 grammar: policy variables are then literal text (IAM semantics). */
  readonly Version?: PolicyVersion;
  readonly Id?: string;
  readonly Statement: readonly PolicyStatement[];
}

export interface ParsePolicyOptions {
  readonly kind: PolicyKind;
  /** Size limit in UTF-8 bytes; defaults to 10 KB (the auth policy quota, spec §1.5). */
  readonly maxBytes?: number;
}
