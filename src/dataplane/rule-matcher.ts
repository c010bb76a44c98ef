import type { HeaderMatch, HttpMatch } from '../model/lattice-types.js';

/** What a rule's conditions look at; built once per request, only the fields rules need. */
export interface MatchInput {
  /** Request method exactly as sent (spec §1.5 Rule: method match is case-sensitive). */
  method: string;
  /** Path without the query string. */
  path: string;
  /** `path` lower-cased; empty unless the listener has a case-insensitive path condition. */
  lowerPath: string;
  /** Node's lower-cased header map. */
  headers: Record<string, string | string[] | undefined>;
}

const HEADER_EXACT = 0;
const HEADER_PREFIX = 1;
const HEADER_CONTAINS = 2;

/** One compiled header condition: the name lower-cased, the value lower-cased unless case-sensitive. */
class CompiledHeaderMatch {
  readonly name: string;
  readonly kind: number;
  readonly value: string;
  readonly caseSensitive: boolean;

  constructor(m: HeaderMatch) {
    this.name = m.name.toLowerCase();
    this.caseSensitive = m.caseSensitive === true;
    const raw =
      m.match.exact !== undefined
        ? m.match.exact
        : m.match.prefix !== undefined
          ? m.match.prefix
          : (m.match.contains ?? '');
    this.kind =
      m.match.exact !== undefined
        ? HEADER_EXACT
        : m.match.prefix !== undefined
          ? HEADER_PREFIX
          : HEADER_CONTAINS;
    this.value = this.caseSensitive ? raw : raw.toLowerCase();
  }

  matches(headers: Record<string, string | string[] | undefined>): boolean {
    const found = headers[this.name];
    if (found === undefined) return false;
    let v = typeof found === 'string' ? found : found.join(', ');
    if (!this.caseSensitive) v = v.toLowerCase();
    if (this.kind === HEADER_EXACT) return v === this.value;
    if (this.kind === HEADER_PREFIX) return v.startsWith(this.value);
    return v.includes(this.value);
  }
}

/**
 * A rule's `httpMatch`, compiled: every present condition must hold (AND, spec §1.5 Rule).
 * Method: exact, case-sensitive. Path: exact or prefix, case-insensitive unless `caseSensitive`.
 * Headers: name case-insensitive; value case-insensitive unless `caseSensitive`.
 */
export class CompiledMatch {
  readonly method: string | undefined;
  readonly pathExact: string | undefined;
  readonly pathPrefix: string | undefined;
  readonly pathCaseSensitive: boolean;
  readonly headerMatches: readonly CompiledHeaderMatch[];

  constructor(match: HttpMatch | undefined) {
    this.method = match?.method;
    const pm = match?.pathMatch;
    this.pathCaseSensitive = pm?.caseSensitive === true;
    const fold = (s: string | undefined): string | undefined =>
      s === undefined || this.pathCaseSensitive ? s : s.toLowerCase();
    this.pathExact = fold(pm?.match.exact);
    this.pathPrefix = pm?.match.exact === undefined ? fold(pm?.match.prefix) : undefined;
    this.headerMatches = (match?.headerMatches ?? []).map((h) => new CompiledHeaderMatch(h));
  }

  /** True when a case-insensitive path condition needs `MatchInput.lowerPath`. */
  get needsLowerPath(): boolean {
    return (
      !this.pathCaseSensitive && (this.pathExact !== undefined || this.pathPrefix !== undefined)
    );
  }

  matches(input: MatchInput): boolean {
    if (this.method !== undefined && input.method !== this.method) return false;
    if (this.pathExact !== undefined) {
      if ((this.pathCaseSensitive ? input.path : input.lowerPath) !== this.pathExact) return false;
    } else if (this.pathPrefix !== undefined) {
      if (!(this.pathCaseSensitive ? input.path : input.lowerPath).startsWith(this.pathPrefix))
        return false;
    }
    const hm = this.headerMatches;
    for (let i = 0; i < hm.length; i++) if (!hm[i]!.matches(input.headers)) return false;
    return true;
  }
}
