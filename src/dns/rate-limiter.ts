/**
 * A token bucket per source address, so one flooding client cannot take the responder from the
 * others (issue 8 "Bad input": flooding queries are rate-limited per source). Memory is bounded:
 * past `maxSources` the oldest buckets are forgotten (a forgotten source starts with a full bucket).
 */

/** Limits of the per-source token bucket. */
export interface RateLimit {
  /** Sustained queries per second per source address. */
  queriesPerSecond: number;
  /** Queries a source may send at once before the sustained rate applies. */
  burst: number;
  /** Sources remembered at most (default 10 000). */
  maxSources?: number;
}

class Bucket {
  constructor(
    public tokens: number,
    public at: number,
  ) {}
}

/** Per-source token buckets; `take` is O(1). */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly maxSources: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.perMs = limit.queriesPerSecond / 1000;
    this.maxSources = limit.maxSources ?? 10_000;
  }

  /** True when `source` may send one more query now (and counts it). */
  take(source: string): boolean {
    const t = this.now();
    let b = this.buckets.get(source);
    if (b === undefined) {
      if (this.buckets.size >= this.maxSources) this.forgetOldest();
      b = new Bucket(this.limit.burst, t);
      this.buckets.set(source, b);
    } else {
      b.tokens = Math.min(this.limit.burst, b.tokens + (t - b.at) * this.perMs);
      b.at = t;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Sources currently tracked (tests). */
  get size(): number {
    return this.buckets.size;
  }

  private forgetOldest(): void {
    // Map iteration is insertion order: the first tenth are the longest-known sources.
    let n = Math.max(1, this.maxSources >> 3);
    for (const key of this.buckets.keys()) {
      this.buckets.delete(key);
      if (--n === 0) break;
    }
  }
}
