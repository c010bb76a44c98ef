import { Dispatcher, Pool } from 'undici';
import type { DataPlaneCounters } from './connection-counters.js';

/** Settings of the keep-alive pools to targets. */
export interface UpstreamPoolOptions {
  connectTimeoutMs: number;
  /** Most concurrent connections to one target; further requests queue in the pool. */
  maxConnectionsPerTarget: number;
  /** How long an idle upstream connection is kept (undici also honours the target's hint). */
  keepAliveTimeoutMs: number;
  /** Connection figures of spec §4.2 (connection-counters.ts). */
  counters?: DataPlaneCounters;
}

/**
 * A target's pool, made on its first request. A snapshot names every registered target (100,000
 * in the control-plane bench) and most are never asked for; an undici `Pool` per target at compile
 * time cost ~20 % of the start-up CPU and most of its garbage (each Pool allocates its queues).
 * Only `dispatch`, `close` and `destroy` are used by the data plane.
 */
class LazyPool extends Dispatcher {
  #pool: Pool | undefined;
  constructor(private readonly make: () => Pool) {
    super();
  }

  /** The undici pool, made now if not yet. */
  get pool(): Pool {
    return (this.#pool ??= this.make());
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
    return this.pool.dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const closed = this.#pool?.close() ?? Promise.resolve();
    if (callback === undefined) return closed;
    closed.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const err = typeof a === 'function' ? null : (a ?? null);
    const callback = typeof a === 'function' ? a : b;
    const destroyed = this.#pool?.destroy(err) ?? Promise.resolve();
    if (callback === undefined) return destroyed;
    destroyed.then(callback, callback);
  }
}

class PoolEntry {
  constructor(
    readonly key: string,
    readonly pool: LazyPool,
    public generation: number,
  ) {}
}

/**
 * One undici `Pool` per target origin (`http://ip:port`), shared by successive compiled snapshots
 * so keep-alive connections survive configuration changes. Only the forwarder opens upstream
 * connections (STYLE.md); this registry is its connection store.
 */
export class UpstreamPools {
  private readonly entries = new Map<string, PoolEntry>();
  private readonly origins = new WeakMap<object, string>();
  private readonly byPool = new WeakMap<object, PoolEntry>();
  private generation = 0;
  private readonly options: UpstreamPoolOptions;

  constructor(options: UpstreamPoolOptions) {
    this.options = options;
  }

  /** Starts a compile: pools acquired from now on belong to the new generation. */
  beginGeneration(): number {
    return ++this.generation;
  }

  /** `localAddress`: the source address of its connections (a namespace VPC's, netns/). */
  acquire(origin: string, localAddress?: string): Dispatcher {
    const key = localAddress === undefined ? origin : `${origin}|${localAddress}`;
    const found = this.entries.get(key);
    if (found !== undefined) {
      found.generation = this.generation;
      return found.pool;
    }
    const pool = new LazyPool(() => {
      const made = new Pool(origin, {
        connections: this.options.maxConnectionsPerTarget,
        pipelining: 1,
        connectTimeout: this.options.connectTimeoutMs,
        keepAliveTimeout: this.options.keepAliveTimeoutMs,
        keepAliveMaxTimeout: Math.max(this.options.keepAliveTimeoutMs, 600_000),
        // spec §7.3: target certificates are never validated.
        connect: {
          ...(origin.startsWith('https:') ? { rejectUnauthorized: false } : {}),
          ...(localAddress !== undefined ? { localAddress } : {}),
        },
      });
      this.options.counters?.watchPool(made, origin.startsWith('https:'));
      return made;
    });
    const entry = new PoolEntry(key, pool, this.generation);
    this.entries.set(key, entry);
    this.byPool.set(pool, entry);
    this.origins.set(pool, origin);
    return pool;
  }

  /**
   * Marks a pool `acquire` returned earlier as used by the compile in progress, as acquiring it
   * again would; false when it is not one of these pools or was swept since.
   */
  retain(pool: object): boolean {
    const entry = this.byPool.get(pool);
    if (entry === undefined || this.entries.get(entry.key) !== entry) return false;
    entry.generation = this.generation;
    return true;
  }

  /** The origin (`http://ip:port`) a pool from `acquire` connects to; undefined for others. */
  originOf(pool: object): string | undefined {
    return this.origins.get(pool);
  }

  /**
   * Closes pools no snapshot since `generation` uses. `close()` lets requests already running on
   * them finish, so in-flight requests of the previous snapshot are not cut.
   */
  sweep(generation: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.generation >= generation) continue;
      this.entries.delete(key);
      entry.pool.close().catch(() => undefined);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Closes every pool, waiting at most `graceMs` for running requests, then destroying. */
  async closeAll(graceMs: number): Promise<void> {
    const pools = [...this.entries.values()].map((e) => e.pool);
    this.entries.clear();
    await Promise.all(
      pools.map(async (pool) => {
        let timer: NodeJS.Timeout | undefined;
        const closed = pool.close().catch(() => undefined);
        const expired = new Promise<'expired'>((resolve) => {
          timer = setTimeout(resolve, graceMs, 'expired');
          timer.unref();
        });
        if ((await Promise.race([closed, expired])) === 'expired')
          await pool.destroy().catch(() => undefined);
        clearTimeout(timer);
      }),
    );
  }
}
