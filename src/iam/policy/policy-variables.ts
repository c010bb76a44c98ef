/**
 * Policy variables (`${aws:username}`, `${aws:PrincipalTag/team}`, `${*}`, `${?}`, `${$}`, and
 * `${key, 'default'}`) in Resource elements and String/Arn condition values. Parsed once at compile
 * time into parts; at evaluation only the variable parts are looked up. Only the 2012-10-17
 * grammar interprets them; older policies read `${…}` literally (IAM semantics).
 */
import type { ConditionKeyReader } from './condition-keys.js';
import {
  compileWildcard,
  globMatch,
  LIT,
  wildcardKinds,
  type WildcardMatcher,
} from './wildcard.js';

/** A literal run (its `*`/`?` are wildcards when the template is a pattern) or a variable. */
type TemplatePart =
  { readonly literal: string } | { readonly key: string; readonly fallback: string | undefined };

/** A string with policy variables, resolved per request. */
export interface StringTemplate {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
}

const VARIABLE_RE = /\$\{([^}]*)\}/g;
const DEFAULT_RE = /^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$/;

/** Splits `text` into literal and variable parts; `undefined` when it holds no variables. */
export function parseTemplate(text: string): StringTemplate | undefined {
  if (!text.includes('${')) return undefined;
  const parts: TemplatePart[] = [];
  let literal = '';
  let last = 0;
  let hasVariable = false;
  for (const m of text.matchAll(VARIABLE_RE)) {
    literal += text.slice(last, m.index);
    last = m.index + m[0].length;
    const body = m[1] as string;
    // `${*}`, `${?}`, `${$}` are escapes: the character itself, never a wildcard.
    if (body === '*' || body === '?' || body === '$') {
      if (literal) parts.push({ literal });
      literal = '';
      parts.push({ key: body, fallback: body });
      hasVariable = true;
      continue;
    }
    const withDefault = DEFAULT_RE.exec(body);
    const key = (withDefault ? (withDefault[1] as string) : body.trim()).toLowerCase();
    if (key === '') {
      literal += m[0];
      continue;
    }
    if (literal) parts.push({ literal });
    literal = '';
    parts.push({ key, fallback: withDefault ? withDefault[2] : undefined });
    hasVariable = true;
  }
  literal += text.slice(last);
  if (literal) parts.push({ literal });
  return hasVariable ? { source: text, parts } : undefined;
}

function lookup(part: { key: string; fallback: string | undefined }, keys: ConditionKeyReader) {
  if (part.key === '*' || part.key === '?' || part.key === '$') return part.key;
  const v = keys.get(part.key);
  // A multi-valued key cannot be a variable (IAM); treat it as missing.
  const value = typeof v === 'string' ? v : v !== undefined && v.length === 1 ? v[0] : undefined;
  return value ?? part.fallback;
}

/** The template as plain text, or `undefined` when a variable has no value and no default. */
export function resolveTemplate(t: StringTemplate, keys: ConditionKeyReader): string | undefined {
  let out = '';
  for (const part of t.parts) {
    if ('literal' in part) out += part.literal;
    else {
      const v = lookup(part, keys);
      if (v === undefined) return undefined;
      out += v;
    }
  }
  return out;
}

/** Matches text against a wildcard pattern that may hold variables (values match literally). */
export interface PatternMatcher {
  readonly pattern: string;
  match(text: string, keys: ConditionKeyReader): boolean;
}

class StaticPattern implements PatternMatcher {
  readonly pattern: string;
  constructor(private readonly inner: WildcardMatcher) {
    this.pattern = inner.pattern;
  }
  match(text: string): boolean {
    return this.inner.match(text);
  }
}

class VariablePattern implements PatternMatcher {
  readonly pattern: string;
  private readonly literalKinds: (Uint8Array | undefined)[];
  constructor(private readonly template: StringTemplate) {
    this.pattern = template.source;
    this.literalKinds = template.parts.map((p) =>
      'literal' in p ? wildcardKinds(p.literal) : undefined,
    );
  }
  match(text: string, keys: ConditionKeyReader): boolean {
    let pattern = '';
    const kinds: number[] = [];
    const parts = this.template.parts;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as TemplatePart;
      if ('literal' in part) {
        pattern += part.literal;
        for (const k of this.literalKinds[i] as Uint8Array) kinds.push(k);
      } else {
        const v = lookup(part, keys);
        if (v === undefined) return false; // spec: a missing variable makes the element not match
        pattern += v;
        for (let j = 0; j < v.length; j++) kinds.push(LIT);
      }
    }
    return globMatch(pattern, Uint8Array.from(kinds), text);
  }
}

/** Compiles a wildcard pattern; with `variables`, `${…}` parts are resolved per request. */
export function compilePattern(pattern: string, variables: boolean): PatternMatcher {
  const template = variables ? parseTemplate(pattern) : undefined;
  return template ? new VariablePattern(template) : new StaticPattern(compileWildcard(pattern));
}
