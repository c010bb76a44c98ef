import type { ResourceKind } from '../model/resource-kinds.js';
import type { Owned, Snapshot } from '../model/snapshot-types.js';
import type { Store, StoredResource } from '../store/store.js';

/** The kinds a snapshot carries, and the Snapshot field each one fills. */
const SNAPSHOT_FIELDS = {
  'service-network': 'serviceNetworks',
  service: 'services',
  listener: 'listeners',
  rule: 'rules',
  'target-group': 'targetGroups',
  target: 'targets',
  'service-network-service-association': 'serviceNetworkServiceAssociations',
  'service-network-vpc-association': 'serviceNetworkVpcAssociations',
  'auth-policy': 'authPolicies',
  'access-log-subscription': 'accessLogSubscriptions',
  vpc: 'vpcs',
  instance: 'instances',
  'load-balancer': 'loadBalancers',
  account: 'accounts',
  'iam-user': 'users',
  'iam-role': 'roles',
  'access-key': 'accessKeys',
  certificate: 'certificates',
  'security-group': 'securityGroups',
} as const satisfies Partial<Record<ResourceKind, keyof Snapshot>>;

type SnapshotKind = keyof typeof SNAPSHOT_FIELDS;

/** Kinds whose snapshot entries carry the owner account (`Owned<T>`). */
const OWNED_KINDS = new Set<ResourceKind>([
  'service-network',
  'service',
  'listener',
  'rule',
  'target-group',
  'target',
  'service-network-service-association',
  'service-network-vpc-association',
  'auth-policy',
  'access-log-subscription',
  'certificate',
]);

export interface SnapshotBuilderOptions {
  store: Store;
  region: string;
  partition: string;
  logger?: { warn(obj: object, msg?: string): void };
  /**
   * Least time between two rebuilds (default 20 ms). Commits arriving closer together are
   * coalesced into one snapshot, so a burst of API writes costs one rebuild and one data-plane
   * compile instead of one per write; a single change still propagates within this delay. When a
   * rebuild (with its subscribers' compiles) took longer than this, the next one waits as long as
   * that rebuild took: see `refresh`.
   */
  minIntervalMs?: number;
}

/**
 * Follows the store's change feed and keeps an immutable `Snapshot` of it. It holds every
 * snapshot resource in memory and applies each change incrementally (one read per changed
 * resource), then assembles a new frozen Snapshot per revision.
 */
export class SnapshotBuilder {
  private readonly byKind = new Map<SnapshotKind, Map<string, unknown>>();
  /**
   * Each kind's frozen array as the last snapshot carried it. A write copies only the arrays of
   * the kinds it touched: copying all of them (100,000 targets) on every API write was a large
   * part of a create's cost on a big store; an unchanged kind keeps its array (and identity).
   */
  private readonly arrays = new Map<SnapshotKind, readonly unknown[]>();
  private revision = 0;
  private snapshot: Snapshot | undefined;
  private readonly listeners = new Set<(s: Snapshot) => void>();
  private unwatch: (() => void) | undefined;
  private pending: Promise<void> | undefined;
  private again = false;
  /** When the next rebuild may start (ms since epoch). */
  private nextAllowedAt = 0;

  constructor(private readonly options: SnapshotBuilderOptions) {
    for (const kind of Object.keys(SNAPSHOT_FIELDS) as SnapshotKind[])
      this.byKind.set(kind, new Map());
  }

  /** Loads everything and follows changes from then on. */
  async start(): Promise<Snapshot> {
    const store = this.options.store;
    // Read the revision first: a change committed during the load is re-applied, never missed.
    this.revision = await store.currentRevision();
    for (const kind of Object.keys(SNAPSHOT_FIELDS) as SnapshotKind[]) {
      const page = await store.reader.list({ kind });
      const map = this.byKind.get(kind)!;
      for (const r of page.items) map.set(r.id, entry(r));
      // `trellis up` serves the API while this loads (seconds for 100,000 targets): let it answer.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.snapshot = this.assemble(new Set(this.byKind.keys()));
    this.unwatch = store.watch(() => this.refresh());
    // A write committed during the load was not watched yet: apply it now.
    if ((await store.currentRevision()) !== this.revision) void this.refresh();
    return this.snapshot;
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  current(): Snapshot | undefined {
    return this.snapshot;
  }

  subscribe(onSnapshot: (s: Snapshot) => void): () => void {
    this.listeners.add(onSnapshot);
    return () => this.listeners.delete(onSnapshot);
  }

  /**
   * Applies changes newer than the current revision; coalesces bursts of commits.
   *
   * A rebuild runs on the API's event loop, and its subscribers (the data plane's compile, DNS
   * zones, health plan) are synchronous: with 10,000 services and 100,000 targets one takes about
   * a second. Started back to back under a stream of writes, rebuilds left the API a few
   * milliseconds between them, and every request spanning several event-loop turns waited several
   * rebuilds (CreateService at 10k services: under 1/s, p50 10 s, some 408s; bench/README.md). So
   * the next rebuild waits at least as long as the last one took: the API gets at least half of
   * the loop while writes keep coming, and a change after a quiet spell is still applied at once.
   */
  refresh(): Promise<void> {
    if (this.pending) {
      this.again = true;
      return this.pending;
    }
    this.pending = (async () => {
      try {
        do {
          this.again = false;
          const wait = this.nextAllowedAt - Date.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          const startedAt = Date.now();
          await this.applyChanges();
          // Subscribers may compile in microtasks queued by the publish (netns-wiring's source
          // does): the loop is ours again only once those ran, so measure until then.
          await new Promise<void>((resolve) => setImmediate(resolve));
          const cost = Date.now() - startedAt;
          this.nextAllowedAt = startedAt + Math.max(this.options.minIntervalMs ?? 20, 2 * cost);
        } while (this.again);
      } catch (err) {
        this.options.logger?.warn({ err }, 'snapshot refresh failed; keeping the last snapshot');
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }

  private async applyChanges(): Promise<void> {
    const store = this.options.store;
    const changes = await store.changesSince(this.revision, 100_000);
    if (!changes.length) return;
    const touched = new Map<string, SnapshotKind>();
    for (const c of changes) {
      if (c.kind in SNAPSHOT_FIELDS) touched.set(c.id, c.kind as SnapshotKind);
    }
    for (const [id, kind] of touched) {
      const r = await store.reader.get(kind, id);
      const map = this.byKind.get(kind)!;
      if (r) map.set(id, entry(r));
      else map.delete(id);
    }
    this.revision = changes[changes.length - 1]!.revision;
    this.snapshot = this.assemble(new Set(touched.values()));
    for (const l of this.listeners) {
      try {
        l(this.snapshot);
      } catch (err) {
        this.options.logger?.warn({ err }, 'snapshot subscriber failed');
      }
    }
  }

  /** A new frozen Snapshot; only the `changed` kinds' arrays are copied from their maps. */
  private assemble(changed: ReadonlySet<SnapshotKind>): Snapshot {
    const out: Record<string, unknown> = {
      revision: this.revision,
      region: this.options.region,
      partition: this.options.partition,
    };
    for (const [kind, field] of Object.entries(SNAPSHOT_FIELDS) as [SnapshotKind, string][]) {
      let items = this.arrays.get(kind);
      if (!items || changed.has(kind)) {
        items = Object.freeze([...this.byKind.get(kind)!.values()]);
        this.arrays.set(kind, items);
      }
      out[field] = items;
    }
    return Object.freeze(out) as unknown as Snapshot;
  }
}

function entry(r: StoredResource): unknown {
  if (!OWNED_KINDS.has(r.kind)) return Object.freeze(r.data);
  return Object.freeze({ ...(r.data as object), accountId: r.accountId }) as Owned<object>;
}

export function createSnapshotBuilder(options: SnapshotBuilderOptions): SnapshotBuilder {
  return new SnapshotBuilder(options);
}
