/**
 * `*` / `?` wildcard matching for actions, resources, StringLike and ArnLike (spec §2.3). Patterns
 * are compiled once into the cheapest test that answers them (equality, prefix, suffix, or a
 * linear two-pointer glob); no RegExp is ever built, so no pattern can backtrack exponentially.
 */

/** Per-character kind of a compiled glob: literal, `*`, `?`. */
export const LIT = 0;
export const STAR = 1;
export const QMARK = 2;

/**
 * Glob match of `text` against `pattern`, where `kinds[i]` says whether pattern character i is a
 * literal, `*` or `?` (so substituted policy variables stay literal). O(|pattern|·|text|) worst
 * case, linear in the usual case.
 */
export function globMatch(pattern: string, kinds: Uint8Array, text: string): boolean {
  const pl = pattern.length;
  const tl = text.length;
  let pi = 0;
  let ti = 0;
  let starP = -1;
  let starT = 0;
  while (ti < tl) {
    if (pi < pl) {
      const k = kinds[pi];
      if (k === STAR) {
        starP = pi++;
        starT = ti;
        continue;
      }
      if (k === QMARK || pattern.charCodeAt(pi) === text.charCodeAt(ti)) {
        pi++;
        ti++;
        continue;
      }
    }
    if (starP < 0) return false;
    pi = starP + 1;
    ti = ++starT;
  }
  while (pi < pl && kinds[pi] === STAR) pi++;
  return pi === pl;
}

/** Kinds for a pattern where every `*` and `?` is a wildcard. */
export function wildcardKinds(pattern: string): Uint8Array {
  const kinds = new Uint8Array(pattern.length);
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    kinds[i] = c === 42 ? STAR : c === 63 ? QMARK : LIT;
  }
  return kinds;
}

/** A compiled wildcard pattern. */
export interface WildcardMatcher {
  readonly pattern: string;
  match(text: string): boolean;
}

class AnyMatcher implements WildcardMatcher {
  constructor(readonly pattern: string) {}
  match(): boolean {
    return true;
  }
}
class ExactMatcher implements WildcardMatcher {
  constructor(readonly pattern: string) {}
  match(text: string): boolean {
    return text === this.pattern;
  }
}
class PrefixMatcher implements WildcardMatcher {
  readonly prefix: string;
  constructor(readonly pattern: string) {
    this.prefix = pattern.slice(0, -1);
  }
  match(text: string): boolean {
    return text.startsWith(this.prefix);
  }
}
class SuffixMatcher implements WildcardMatcher {
  readonly suffix: string;
  constructor(readonly pattern: string) {
    this.suffix = pattern.slice(1);
  }
  match(text: string): boolean {
    return text.endsWith(this.suffix);
  }
}
class GlobMatcher implements WildcardMatcher {
  readonly kinds: Uint8Array;
  constructor(readonly pattern: string) {
    this.kinds = wildcardKinds(pattern);
  }
  match(text: string): boolean {
    return globMatch(this.pattern, this.kinds, text);
  }
}

/** Compiles a pattern in which `*` matches any run of characters and `?` any one character. */
export function compileWildcard(pattern: string): WildcardMatcher {
  const stars = countOf(pattern, 42);
  const qmarks = countOf(pattern, 63);
  if (stars === 0 && qmarks === 0) return new ExactMatcher(pattern);
  if (qmarks === 0) {
    if (/^\*+$/.test(pattern)) return new AnyMatcher(pattern);
    if (stars === 1 && pattern.endsWith('*')) return new PrefixMatcher(pattern);
    if (stars === 1 && pattern.startsWith('*')) return new SuffixMatcher(pattern);
  }
  return new GlobMatcher(pattern);
}

function countOf(s: string, code: number): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === code) n++;
  return n;
}
