/**
 * A parser of the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): `# HELP` / `# TYPE` lines,
 * samples `name{label="value",…} value [timestamp]`, label values with `\\`, `\"` and `\n`
 * escapes, `NaN` / `+Inf` / `-Inf` values. `trellis top` reads `/metrics` with it and the tests
 * check `/metrics` with it (no parser library is a dependency). It is strict: a line it does not
 * understand, a `TYPE` after its samples or a histogram whose buckets are not cumulative up to
 * `+Inf` = `_count` is an error, not something skipped.
 */

/** One sample line. */
export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition. */
export interface PrometheusExposition {
  /** Metric family name → `counter` | `gauge` | `histogram` | `summary` | `untyped`. */
  types: Map<string, string>;
  samples: PrometheusSample[];
  /** The value of the one sample with this name whose labels include `labels` (0 if none). */
  value(name: string, labels?: Record<string, string>): number;
  /** Every sample with this name whose labels include `labels`. */
  find(name: string, labels?: Record<string, string>): PrometheusSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * A sample value as Go's `strconv.ParseFloat` reads it (the format's definition): the special
 * values in any case — prom-client, for one, writes NaN as `Nan` (its event-loop lag gauges
 * before the first measurement).
 */
function parseValue(text: string, line: string): number {
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (/^\+?inf(inity)?$/.test(lower)) return Infinity;
  if (/^-inf(inity)?$/.test(lower)) return -Infinity;
  const n = Number(text);
  if (text === '' || Number.isNaN(n)) throw new Error(`bad sample value "${text}": ${line}`);
  return n;
}

function parseLabels(line: string, at: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at + 1; // after '{'
  for (;;) {
    while (line[i] === ' ') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const m = LABEL_NAME.exec(line.slice(i));
    if (!m) throw new Error(`bad label name at ${i}: ${line}`);
    const name = m[0];
    i += name.length;
    if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`expected =" at ${i}: ${line}`);
    i += 2;
    let value = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) throw new Error(`unterminated label value: ${line}`);
      if (c === '\\') {
        const n = line[i + 1];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else throw new Error(`bad escape \\${n ?? ''} in label value: ${line}`);
        i += 2;
        continue;
      }
      if (c === '"') {
        i++;
        break;
      }
      value += c;
      i++;
    }
    if (name in labels) throw new Error(`label ${name} repeated: ${line}`);
    labels[name] = value;
    while (line[i] === ' ') i++;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`expected , or } at ${i}: ${line}`);
  }
}

/** The family a sample belongs to: `x_bucket`/`x_sum`/`x_count` of a histogram `x`, else itself. */
function familyOf(name: string, types: Map<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const t = types.get(base);
    if (t === 'histogram' || (t === 'summary' && suffix !== '_bucket')) return base;
  }
  return name;
}

/** Histograms: per series, buckets non-decreasing in `le` order, `+Inf` present and = `_count`. */
function checkHistograms(types: Map<string, string>, samples: PrometheusSample[]): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, { le: number; value: number }[]>();
    const counts = new Map<string, number>();
    for (const s of samples) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(Object.entries(rest).sort());
      if (s.name === `${family}_bucket`) {
        if (le === undefined) throw new Error(`${family}_bucket without le`);
        const list = series.get(key) ?? [];
        list.push({ le: parseValue(le, le), value: s.value });
        series.set(key, list);
      } else if (s.name === `${family}_count`) counts.set(key, s.value);
    }
    for (const [key, buckets] of series) {
      buckets.sort((a, b) => a.le - b.le);
      for (let i = 1; i < buckets.length; i++)
        if (buckets[i]!.value < buckets[i - 1]!.value)
          throw new Error(`${family}${key}: buckets are not cumulative`);
      const inf = buckets[buckets.length - 1]!;
      if (inf.le !== Infinity) throw new Error(`${family}${key}: no +Inf bucket`);
      if (counts.get(key) !== inf.value) throw new Error(`${family}${key}: +Inf bucket ≠ _count`);
    }
  }
}

/** Parses an exposition; throws on any malformed line. */
export function parsePrometheusText(text: string): PrometheusExposition {
  const types = new Map<string, string>();
  const seen = new Set<string>();
  const samples: PrometheusSample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s(.*))?$/.exec(line);
      if (!m) continue; // a plain comment
      if (m[1] === 'TYPE') {
        const [, , name, type] = m;
        if (!TYPES.has(type ?? '')) throw new Error(`bad TYPE line: ${line}`);
        if (types.has(name!)) throw new Error(`second TYPE line for ${name!}`);
        if (seen.has(name!)) throw new Error(`TYPE of ${name!} after its samples`);
        types.set(name!, type!);
      }
      continue;
    }
    const m = NAME.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    let i = m[0].length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i));
    if (line[i] !== ' ' && line[i] !== '\t') throw new Error(`bad sample line: ${line}`);
    const rest = line.slice(i).trim().split(/\s+/);
    if (rest.length > 2) throw new Error(`bad sample line: ${line}`);
    if (rest.length === 2 && !/^-?\d+$/.test(rest[1]!)) throw new Error(`bad timestamp: ${line}`);
    samples.push({ name: m[0], labels, value: parseValue(rest[0]!, line) });
    seen.add(familyOf(m[0], types));
  }
  checkHistograms(types, samples);
  const find = (name: string, want: Record<string, string> = {}): PrometheusSample[] =>
    samples.filter(
      (s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v),
    );
  return {
    types,
    samples,
    find,
    value(name, want = {}) {
      const found = find(name, want);
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match`);
      return found[0]?.value ?? 0;
    },
  };
}

/**
 * The `q` quantile (0…1) of a histogram from its cumulative buckets (`le` → count), linearly
 * interpolated inside the bucket as PromQL's `histogram_quantile` does; NaN without observations.
 * A quantile in the `+Inf` bucket answers the highest finite bound.
 */
export function histogramQuantile(
  q: number,
  buckets: readonly { le: number; count: number }[],
): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted[sorted.length - 1]?.count ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket <= 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
