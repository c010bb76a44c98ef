import type { ResourceKind } from '../model/resource-kinds.js';
import type { TargetStatus } from '../model/lattice-types.js';

/**
 * A resource as the store keeps it: the indexed columns plus the resource's JSON `data`.
 * IDs are unique across kinds; `(kind, accountId, parentId, name)` is unique when `name` is set.
 */
export interface StoredResource<T = unknown> {
  readonly kind: ResourceKind;
  readonly id: string;
  readonly accountId: string;
  readonly arn: string | null;
  readonly name: string | null;
  readonly parentId: string | null;
  readonly data: T;
  /** Store revision of the last write to this resource (optimistic concurrency). */
  readonly revision: number;
}

/** What a write supplies; the store assigns `revision`. */
export interface ResourceInput<T = unknown> {
  kind: ResourceKind;
  id: string;
  accountId: string;
  arn?: string | null;
  name?: string | null;
  parentId?: string | null;
  data: T;
  /**
   * IDs of other resources this one refers to (e.g. the target groups a listener or rule forwards
   * to), for `ListQuery.refersTo`. On `update`, given replaces the set; absent keeps it.
   */
  refs?: readonly string[];
}

export interface ListQuery {
  kind: ResourceKind;
  accountId?: string;
  parentId?: string;
  /** Equality filters on top-level string/number/boolean fields of `data`. */
  where?: Record<string, string | number | boolean>;
  /** Only resources whose `refs` (see `ResourceInput.refs`) include this id; indexed. */
  refersTo?: string;
  /** Return resources whose id sorts after this one (keyset pagination). */
  afterId?: string;
  limit?: number;
}

export interface ListPage<T> {
  items: StoredResource<T>[];
  /** Set when more items exist: pass as `afterId` for the next page. */
  lastId?: string;
}

/** One entry of the change feed: every write in a transaction shares its revision. */
export interface ChangeEvent {
  revision: number;
  kind: ResourceKind;
  id: string;
  accountId: string;
  op: 'put' | 'delete';
}

/** A stored idempotency record for a `clientToken` (spec §1.1). */
export interface IdempotencyRecord {
  accountId: string;
  operation: string;
  clientToken: string;
  requestHash: string;
  /** The JSON response first returned for the token. */
  response: string;
  createdAt: string;
}

/** Health the data plane reports for one registered target (not part of the change feed). */
export interface TargetHealthRecord {
  targetGroupId: string;
  targetId: string;
  port: number;
  status: TargetStatus;
  reasonCode?: string;
  updatedAt: string;
}

/** Per-service, per-hour usage counters kept for metering (monitoring issue). */
export interface UsageIncrement {
  serviceId: string;
  hour: string;
  requests: number;
  bytesProcessed: number;
}

/** Reads every adapter answers, inside or outside a transaction. */
export interface StoreReader {
  get<T>(kind: ResourceKind, id: string): Promise<StoredResource<T> | undefined>;
  getByArn<T>(arn: string): Promise<StoredResource<T> | undefined>;
  getByName<T>(
    kind: ResourceKind,
    accountId: string,
    name: string,
    parentId?: string | null,
  ): Promise<StoredResource<T> | undefined>;
  list<T>(query: ListQuery): Promise<ListPage<T>>;
  count(query: Omit<ListQuery, 'afterId' | 'limit'>): Promise<number>;
  getIdempotency(
    accountId: string,
    operation: string,
    clientToken: string,
  ): Promise<IdempotencyRecord | undefined>;
}

/** Writes, only inside `Store.transact`. Every write is recorded in the change feed. */
export interface StoreTransaction extends StoreReader {
  /** Inserts a new resource; throws `StoreConflictError` on a duplicate id, ARN or name. */
  insert<T>(input: ResourceInput<T>): Promise<StoredResource<T>>;
  /**
   * Replaces a resource's data (and name/arn/parent if given). With `expectedRevision`, throws
   * `StoreConflictError` when the stored revision differs. Throws `StoreNotFoundError` if absent.
   */
  update<T>(input: ResourceInput<T>, expectedRevision?: number): Promise<StoredResource<T>>;
  /** Deletes a resource; returns false when it did not exist. */
  delete(kind: ResourceKind, id: string): Promise<boolean>;
  putIdempotency(record: IdempotencyRecord): Promise<void>;
}

export interface Store {
  /** Name of the adapter (`sqlite`, `postgres`), for logs. */
  readonly adapter: string;
  /**
   * Runs `fn` in one serialisable transaction. All its writes commit together with one new
   * revision (only if something was written); if `fn` throws, nothing is kept.
   */
  transact<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** Reads outside a transaction (see the latest committed state). */
  readonly reader: StoreReader;
  /** The latest committed revision (0 for an empty store). */
  currentRevision(): Promise<number>;
  /** Change events with revision > `fromRevision`, oldest first, at most `limit`. */
  changesSince(fromRevision: number, limit?: number): Promise<ChangeEvent[]>;
  /**
   * Calls `onChange` with the new revision after each commit (in this process at once; commits by
   * other processes are noticed by polling or LISTEN/NOTIFY). Returns an unsubscribe function.
   */
  watch(onChange: (revision: number) => void): () => void;
  /** Target health written by health checkers; last write wins; no revision bump. */
  putTargetHealth(records: TargetHealthRecord[]): Promise<void>;
  getTargetHealth(targetGroupId: string): Promise<TargetHealthRecord[]>;
  deleteTargetHealth(targetGroupId: string, targetId?: string, port?: number): Promise<void>;
  /** Usage counters, added to (monitoring issue). */
  addUsage(increments: UsageIncrement[]): Promise<void>;
  listUsage(filter: { hour?: string; serviceId?: string }): Promise<UsageIncrement[]>;
  close(): Promise<void>;
}
