/**
 * The IAM condition operator table (spec §2.4 relies on the standard IAM operators): names,
 * families, negation, and the `…IfExists` / `ForAnyValue:` / `ForAllValues:` decorations.
 */

export type OperatorFamily =
  'String' | 'Numeric' | 'Date' | 'Bool' | 'Binary' | 'IpAddress' | 'Arn' | 'Null';

/** What one policy value is tested with against one request value. */
export type OperatorTest =
  | 'equals'
  | 'equalsIgnoreCase'
  | 'like'
  | 'lessThan'
  | 'lessThanEquals'
  | 'greaterThan'
  | 'greaterThanEquals'
  | 'inCidr'
  | 'arnLike'
  | 'null';

export interface OperatorInfo {
  /** Canonical base name, e.g. `StringNotLike`. */
  readonly name: string;
  readonly family: OperatorFamily;
  readonly test: OperatorTest;
  /** Negated operators are true when the positive test is false (and on a missing key). */
  readonly negated: boolean;
}

export type SetQualifier = 'none' | 'ForAnyValue' | 'ForAllValues';

/** A parsed operator name such as `ForAllValues:StringLikeIfExists`. */
export interface ParsedOperator {
  readonly info: OperatorInfo;
  readonly ifExists: boolean;
  readonly qualifier: SetQualifier;
  /** The name normalised to canonical spelling. */
  readonly canonical: string;
}

function op(name: string, family: OperatorFamily, test: OperatorTest, negated = false) {
  return { name, family, test, negated } as const;
}

/** Every base operator, in the order the error message lists them. */
export const CONDITION_OPERATORS: readonly OperatorInfo[] = [
  op('StringEquals', 'String', 'equals'),
  op('StringNotEquals', 'String', 'equals', true),
  op('StringEqualsIgnoreCase', 'String', 'equalsIgnoreCase'),
  op('StringNotEqualsIgnoreCase', 'String', 'equalsIgnoreCase', true),
  op('StringLike', 'String', 'like'),
  op('StringNotLike', 'String', 'like', true),
  op('NumericEquals', 'Numeric', 'equals'),
  op('NumericNotEquals', 'Numeric', 'equals', true),
  op('NumericLessThan', 'Numeric', 'lessThan'),
  op('NumericLessThanEquals', 'Numeric', 'lessThanEquals'),
  op('NumericGreaterThan', 'Numeric', 'greaterThan'),
  op('NumericGreaterThanEquals', 'Numeric', 'greaterThanEquals'),
  op('DateEquals', 'Date', 'equals'),
  op('DateNotEquals', 'Date', 'equals', true),
  op('DateLessThan', 'Date', 'lessThan'),
  op('DateLessThanEquals', 'Date', 'lessThanEquals'),
  op('DateGreaterThan', 'Date', 'greaterThan'),
  op('DateGreaterThanEquals', 'Date', 'greaterThanEquals'),
  op('Bool', 'Bool', 'equalsIgnoreCase'),
  op('BinaryEquals', 'Binary', 'equals'),
  op('IpAddress', 'IpAddress', 'inCidr'),
  op('NotIpAddress', 'IpAddress', 'inCidr', true),
  op('ArnEquals', 'Arn', 'arnLike'),
  op('ArnNotEquals', 'Arn', 'arnLike', true),
  op('ArnLike', 'Arn', 'arnLike'),
  op('ArnNotLike', 'Arn', 'arnLike', true),
  op('Null', 'Null', 'null'),
];

const BY_LOWER_NAME = new Map(CONDITION_OPERATORS.map((o) => [o.name.toLowerCase(), o]));

/** The sentence listing every valid operator, used in grammar error messages. */
export const VALID_OPERATORS_TEXT =
  `valid operators are ${CONDITION_OPERATORS.map((o) => o.name).join(', ')}; ` +
  'each may end in IfExists (except Null) and start with ForAnyValue: or ForAllValues:';

/**
 * Parses an operator name; operator names are matched case-insensitively (as IAM's own parser
 * does for condition keys) and returned in canonical spelling. `undefined` when unknown.
 */
export function parseOperatorName(raw: string): ParsedOperator | undefined {
  let rest = raw;
  let qualifier: SetQualifier = 'none';
  const lower = raw.toLowerCase();
  if (lower.startsWith('foranyvalue:')) {
    qualifier = 'ForAnyValue';
    rest = raw.slice('foranyvalue:'.length);
  } else if (lower.startsWith('forallvalues:')) {
    qualifier = 'ForAllValues';
    rest = raw.slice('forallvalues:'.length);
  }
  let base = rest.toLowerCase();
  let ifExists = false;
  if (base.endsWith('ifexists') && base !== 'ifexists') {
    ifExists = true;
    base = base.slice(0, -'ifexists'.length);
  }
  const info = BY_LOWER_NAME.get(base);
  if (info === undefined) return undefined;
  if (ifExists && info.family === 'Null') return undefined;
  const canonical =
    (qualifier === 'none' ? '' : `${qualifier}:`) + info.name + (ifExists ? 'IfExists' : '');
  return { info, ifExists, qualifier, canonical };
}
