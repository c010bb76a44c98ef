/**
 * Condition blocks compiled to predicates (standard IAM semantics): keys in a block AND, values
 * of a key OR; negated operators are the negation of their positive test (true on a missing
 * key); `…IfExists` is true on a missing key; `ForAnyValue:` needs one request value to pass,
 * `ForAllValues:` every one (true on a missing or empty key); `Null` tests presence.
 */
import type { ConditionKeyReader } from './condition-keys.js';
import {
  parseOperatorName,
  type OperatorTest,
  type ParsedOperator,
} from './condition-operators.js';
import { parseDateValue, parseNumericValue } from './condition-values.js';
import { isInCidr, parseCidr, parseIpAddress, type CidrBlock } from './ip-address.js';
import {
  compilePattern,
  parseTemplate,
  resolveTemplate,
  type PatternMatcher,
  type StringTemplate,
} from './policy-variables.js';

/** Tests one request value against every policy value of a condition (OR). */
interface ValueTest {
  test(value: string, keys: ConditionKeyReader): boolean;
}

class EqualsTest implements ValueTest {
  private readonly set = new Set<string>();
  private readonly templates: StringTemplate[] = [];
  constructor(
    values: readonly string[],
    variables: boolean,
    private readonly ignoreCase: boolean,
  ) {
    for (const v of values) {
      const t = variables ? parseTemplate(v) : undefined;
      if (t) this.templates.push(t);
      else this.set.add(ignoreCase ? v.toLowerCase() : v);
    }
  }
  test(value: string, keys: ConditionKeyReader): boolean {
    const v = this.ignoreCase ? value.toLowerCase() : value;
    if (this.set.has(v)) return true;
    for (const t of this.templates) {
      const r = resolveTemplate(t, keys);
      if (r !== undefined && (this.ignoreCase ? r.toLowerCase() : r) === v) return true;
    }
    return false;
  }
}

class LikeTest implements ValueTest {
  private readonly patterns: PatternMatcher[];
  constructor(values: readonly string[], variables: boolean) {
    this.patterns = values.map((v) => compilePattern(v, variables));
  }
  test(value: string, keys: ConditionKeyReader): boolean {
    for (const p of this.patterns) if (p.match(value, keys)) return true;
    return false;
  }
}

type Compare = (request: number, policy: number) => boolean;
const COMPARE: Partial<Record<OperatorTest, Compare>> = {
  equals: (a, b) => a === b,
  lessThan: (a, b) => a < b,
  lessThanEquals: (a, b) => a <= b,
  greaterThan: (a, b) => a > b,
  greaterThanEquals: (a, b) => a >= b,
};

class OrderedTest implements ValueTest {
  private readonly numbers: number[];
  constructor(
    values: readonly string[],
    private readonly parse: (text: string) => number | undefined,
    private readonly compare: Compare,
  ) {
    this.numbers = values.map((v) => parse(v) as number); // validated by the grammar
  }
  test(value: string): boolean {
    const n = this.parse(value);
    if (n === undefined) return false;
    for (const p of this.numbers) if (this.compare(n, p)) return true;
    return false;
  }
}

class CidrTest implements ValueTest {
  private readonly blocks: CidrBlock[];
  constructor(values: readonly string[]) {
    this.blocks = values.map((v) => parseCidr(v) as CidrBlock); // validated by the grammar
  }
  test(value: string): boolean {
    const addr = parseIpAddress(value);
    if (addr === undefined) return false;
    for (const b of this.blocks) if (isInCidr(addr, b)) return true;
    return false;
  }
}

/** Splits on the first five colons that are outside `${…}` (an ARN has six components). */
export function splitArn(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let depth = 0;
  for (let i = 0; i < text.length && out.length < 5; i++) {
    const c = text.charCodeAt(i);
    if (c === 36 /* $ */ && text.charCodeAt(i + 1) === 123 /* { */) depth++;
    else if (c === 125 /* } */ && depth > 0) depth--;
    else if (c === 58 /* : */ && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

class ArnTest implements ValueTest {
  /** Per policy value: six component patterns, or one whole-value pattern when not an ARN. */
  private readonly arns: PatternMatcher[][];
  constructor(values: readonly string[], variables: boolean) {
    this.arns = values.map((v) => {
      const parts = splitArn(v);
      return parts.length === 6
        ? parts.map((p) => compilePattern(p, variables))
        : [compilePattern(v, variables)];
    });
  }
  test(value: string, keys: ConditionKeyReader): boolean {
    let parts: string[] | undefined;
    for (const arn of this.arns) {
      if (arn.length === 1) {
        if ((arn[0] as PatternMatcher).match(value, keys)) return true;
        continue;
      }
      parts ??= splitArn(value);
      if (parts.length !== 6) continue;
      let all = true;
      for (let i = 0; i < 6 && all; i++)
        all = (arn[i] as PatternMatcher).match(parts[i] as string, keys);
      if (all) return true;
    }
    return false;
  }
}

function makeTest(op: ParsedOperator, values: readonly string[], variables: boolean): ValueTest {
  const { family, test } = op.info;
  switch (family) {
    case 'String':
      return test === 'like'
        ? new LikeTest(values, variables)
        : new EqualsTest(values, variables, test === 'equalsIgnoreCase');
    case 'Numeric':
      return new OrderedTest(values, parseNumericValue, COMPARE[test] as Compare);
    case 'Date':
      return new OrderedTest(values, parseDateValue, COMPARE[test] as Compare);
    case 'Bool':
      return new EqualsTest(values, false, true);
    case 'Binary':
      return new EqualsTest(values, false, false);
    case 'IpAddress':
      return new CidrTest(values);
    case 'Arn':
      return new ArnTest(values, variables);
    case 'Null':
      throw new Error('Null has no value test');
  }
}

/** One (operator, key) pair of a Condition block, ready to evaluate. */
export interface CompiledCondition {
  /** Canonical operator name, e.g. `ForAllValues:StringLike`. */
  readonly operator: string;
  /** The key as written in the policy. */
  readonly key: string;
  evaluate(keys: ConditionKeyReader): boolean;
}

function isMissing(v: string | readonly string[] | undefined): v is undefined {
  return v === undefined || (typeof v !== 'string' && v.length === 0);
}

class NullCondition implements CompiledCondition {
  private readonly wantAbsent: boolean;
  private readonly wantPresent: boolean;
  constructor(
    readonly operator: string,
    readonly key: string,
    private readonly lowerKey: string,
    values: readonly string[],
  ) {
    this.wantAbsent = values.some((v) => v.toLowerCase() === 'true');
    this.wantPresent = values.some((v) => v.toLowerCase() === 'false');
  }
  evaluate(keys: ConditionKeyReader): boolean {
    return isMissing(keys.get(this.lowerKey)) ? this.wantAbsent : this.wantPresent;
  }
}

class ValueCondition implements CompiledCondition {
  private readonly negated: boolean;
  private readonly ifExists: boolean;
  private readonly qualifier: ParsedOperator['qualifier'];
  constructor(
    readonly operator: string,
    readonly key: string,
    private readonly lowerKey: string,
    op: ParsedOperator,
    private readonly values: ValueTest,
  ) {
    this.negated = op.info.negated;
    this.ifExists = op.ifExists;
    this.qualifier = op.qualifier;
  }
  evaluate(keys: ConditionKeyReader): boolean {
    const raw = keys.get(this.lowerKey);
    if (isMissing(raw)) {
      if (this.qualifier === 'ForAllValues' || this.ifExists) return true;
      if (this.qualifier === 'ForAnyValue') return false;
      return this.negated;
    }
    const negated = this.negated;
    if (typeof raw === 'string') return this.values.test(raw, keys) !== negated;
    switch (this.qualifier) {
      case 'ForAllValues':
        for (const v of raw) if (this.values.test(v, keys) === negated) return false;
        return true;
      case 'ForAnyValue':
        for (const v of raw) if (this.values.test(v, keys) !== negated) return true;
        return false;
      default: {
        // A single-valued operator on a multi-valued key: matches when any value matches.
        let any = false;
        for (const v of raw) if ((any = this.values.test(v, keys))) break;
        return any !== negated;
      }
    }
  }
}

/** Compiles a parsed Condition element; `variables` enables `${…}` in String/Arn values. */
export function compileConditions(
  condition: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>,
  variables: boolean,
): CompiledCondition[] {
  const out: CompiledCondition[] = [];
  for (const [operator, block] of Object.entries(condition)) {
    const op = parseOperatorName(operator);
    if (op === undefined) throw new Error(`unknown condition operator ${operator}`); // parsePolicy rejects these
    for (const [key, values] of Object.entries(block)) {
      const lowerKey = key.toLowerCase();
      out.push(
        op.info.family === 'Null'
          ? new NullCondition(op.canonical, key, lowerKey, values)
          : new ValueCondition(op.canonical, key, lowerKey, op, makeTest(op, values, variables)),
      );
    }
  }
  return out;
}
