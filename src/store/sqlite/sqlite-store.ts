import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ResourceKind } from '../../model/resource-kinds.js';
import type { TargetStatus } from '../../model/lattice-types.js';
import type {
  ChangeEvent,
  IdempotencyRecord,
  ListPage,
  ListQuery,
  ResourceInput,
  Store,
  StoreReader,
  StoreTransaction,
  StoredResource,
  TargetHealthRecord,
  UsageIncrement,
} from '../store.js';
import { StoreConflictError, StoreNotFoundError } from '../store-errors.js';
import { SQLITE_MIGRATIONS } from './migrations.js';

export interface SqliteStoreOptions {
  /** Path of the database file; `:memory:` for a throw-away store. */
  filename: string;
  /** `FULL` (default) fsyncs every commit; `NORMAL` survives a process crash but not power loss. */
  synchronous?: 'FULL' | 'NORMAL';
  /** How often to look for commits made by other processes while someone watches (ms). */
  pollIntervalMs?: number;
}

interface ResourceRow {
  id: string;
  kind: string;
  account_id: string;
  arn: string | null;
  name: string | null;
  parent_id: string;
  data: string;
  revision: number;
}

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

function toResource<T>(row: ResourceRow): StoredResource<T> {
  return {
    kind: row.kind as ResourceKind,
    id: row.id,
    accountId: row.account_id,
    arn: row.arn,
    name: row.name,
    parentId: row.parent_id === '' ? null : row.parent_id,
    data: JSON.parse(row.data) as T,
    revision: row.revision,
  };
}

interface ReaderStatements {
  byId: Database.Statement;
  byArn: Database.Statement;
  byName: Database.Statement;
  idem: Database.Statement;
  revision: Database.Statement;
  listCache: Map<string, Database.Statement>;
}

const STATEMENTS = new WeakMap<Database.Database, ReaderStatements>();

function statementsFor(db: Database.Database): ReaderStatements {
  let st = STATEMENTS.get(db);
  if (!st) {
    st = {
      byId: db.prepare('SELECT * FROM resources WHERE id = ? AND kind = ?'),
      byArn: db.prepare('SELECT * FROM resources WHERE arn = ?'),
      byName: db.prepare(
        'SELECT * FROM resources WHERE kind = ? AND account_id = ? AND parent_id = ? AND name = ?',
      ),
      idem: db.prepare(
        'SELECT * FROM idempotency WHERE account_id = ? AND operation = ? AND client_token = ?',
      ),
      revision: db.prepare("SELECT value FROM meta WHERE key = 'revision'"),
      listCache: new Map(),
    };
    STATEMENTS.set(db, st);
  }
  return st;
}

/** Reads on one connection; statements prepared once. */
class SqliteReader implements StoreReader {
  private readonly byId: Database.Statement;
  private readonly byArn: Database.Statement;
  private readonly byName: Database.Statement;
  private readonly idem: Database.Statement;
  private readonly listCache: Map<string, Database.Statement>;

  constructor(protected readonly db: Database.Database) {
    // Statements are prepared once per connection: a transaction object is created per write,
    // and preparing them each time cost more than the writes themselves (control-plane bench).
    const st = statementsFor(db);
    this.byId = st.byId;
    this.byArn = st.byArn;
    this.byName = st.byName;
    this.idem = st.idem;
    this.listCache = st.listCache;
  }

  async get<T>(kind: ResourceKind, id: string): Promise<StoredResource<T> | undefined> {
    const row = this.byId.get(id, kind) as ResourceRow | undefined;
    return row ? toResource<T>(row) : undefined;
  }

  async getByArn<T>(arn: string): Promise<StoredResource<T> | undefined> {
    const row = this.byArn.get(arn) as ResourceRow | undefined;
    return row ? toResource<T>(row) : undefined;
  }

  async getByName<T>(
    kind: ResourceKind,
    accountId: string,
    name: string,
    parentId?: string | null,
  ): Promise<StoredResource<T> | undefined> {
    const row = this.byName.get(kind, accountId, parentId ?? '', name) as ResourceRow | undefined;
    return row ? toResource<T>(row) : undefined;
  }

  private buildWhere(query: Omit<ListQuery, 'limit'>): { sql: string; params: unknown[] } {
    const clauses = ['kind = ?'];
    const params: unknown[] = [query.kind];
    if (query.accountId !== undefined) {
      clauses.push('account_id = ?');
      params.push(query.accountId);
    }
    if (query.parentId !== undefined) {
      clauses.push('parent_id = ?');
      params.push(query.parentId);
    }
    for (const [field, value] of Object.entries(query.where ?? {})) {
      if (!FIELD_NAME.test(field)) throw new Error(`invalid filter field ${field}`);
      clauses.push(`json_extract(data, '$.${field}') = ?`);
      params.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
    }
    if (query.refersTo !== undefined) {
      clauses.push('id IN (SELECT resource_id FROM resource_refs WHERE ref_id = ?)');
      params.push(query.refersTo);
    }
    if (query.afterId !== undefined) {
      clauses.push('id > ?');
      params.push(query.afterId);
    }
    return { sql: clauses.join(' AND '), params };
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.listCache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.listCache.set(sql, stmt);
    }
    return stmt;
  }

  async list<T>(query: ListQuery): Promise<ListPage<T>> {
    const { sql, params } = this.buildWhere(query);
    const limit = query.limit;
    let text = `SELECT * FROM resources WHERE ${sql} ORDER BY id`;
    if (limit !== undefined) {
      text += ' LIMIT ?';
      params.push(limit + 1);
    }
    const rows = this.statement(text).all(...params) as ResourceRow[];
    const more = limit !== undefined && rows.length > limit;
    const items = (more ? rows.slice(0, limit) : rows).map((r) => toResource<T>(r));
    const page: ListPage<T> = { items };
    if (more && items.length) page.lastId = items[items.length - 1]!.id;
    return page;
  }

  async count(query: Omit<ListQuery, 'afterId' | 'limit'>): Promise<number> {
    const { sql, params } = this.buildWhere(query);
    const row = this.statement(`SELECT count(*) AS n FROM resources WHERE ${sql}`).get(
      ...params,
    ) as { n: number };
    return row.n;
  }

  async getIdempotency(
    accountId: string,
    operation: string,
    clientToken: string,
  ): Promise<IdempotencyRecord | undefined> {
    const row = this.idem.get(accountId, operation, clientToken) as
      | {
          account_id: string;
          operation: string;
          client_token: string;
          request_hash: string;
          response: string;
          created_at: string;
        }
      | undefined;
    if (!row) return undefined;
    return {
      accountId: row.account_id,
      operation: row.operation,
      clientToken: row.client_token,
      requestHash: row.request_hash,
      response: row.response,
      createdAt: row.created_at,
    };
  }
}

/** Writes of one transaction; every write is stamped with the transaction's revision. */
class SqliteTransaction extends SqliteReader implements StoreTransaction {
  readonly changes: ChangeEvent[] = [];
  constructor(
    db: Database.Database,
    private readonly revision: number,
    private readonly stmts: WriteStatements,
  ) {
    super(db);
  }

  /** Replaces the `refs` of a resource (same transaction as its write). */
  private setRefs(id: string, refs: readonly string[]): void {
    this.stmts.clearRefs.run(id);
    for (const ref of new Set(refs)) this.stmts.insertRef.run(ref, id);
  }

  private record(kind: ResourceKind, id: string, accountId: string, op: 'put' | 'delete'): void {
    this.changes.push({ revision: this.revision, kind, id, accountId, op });
  }

  async insert<T>(input: ResourceInput<T>): Promise<StoredResource<T>> {
    try {
      this.stmts.insert.run(
        input.id,
        input.kind,
        input.accountId,
        input.arn ?? null,
        input.name ?? null,
        input.parentId ?? '',
        JSON.stringify(input.data),
        this.revision,
      );
    } catch (err) {
      throw translateConstraint(err, input);
    }
    if (input.refs?.length) this.setRefs(input.id, input.refs);
    this.record(input.kind, input.id, input.accountId, 'put');
    return {
      kind: input.kind,
      id: input.id,
      accountId: input.accountId,
      arn: input.arn ?? null,
      name: input.name ?? null,
      parentId: input.parentId ?? null,
      data: input.data,
      revision: this.revision,
    };
  }

  async update<T>(input: ResourceInput<T>, expectedRevision?: number): Promise<StoredResource<T>> {
    const current = await this.get<T>(input.kind, input.id);
    if (!current) throw new StoreNotFoundError(`${input.kind} ${input.id} not found`);
    if (expectedRevision !== undefined && current.revision !== expectedRevision) {
      throw new StoreConflictError(
        `${input.kind} ${input.id} changed (revision ${current.revision}, expected ${expectedRevision})`,
        'revision',
      );
    }
    const arn = input.arn === undefined ? current.arn : input.arn;
    const name = input.name === undefined ? current.name : input.name;
    const parentId = input.parentId === undefined ? current.parentId : input.parentId;
    try {
      this.stmts.update.run(
        arn,
        name,
        parentId ?? '',
        JSON.stringify(input.data),
        this.revision,
        input.id,
      );
    } catch (err) {
      throw translateConstraint(err, input);
    }
    if (input.refs !== undefined) this.setRefs(input.id, input.refs);
    this.record(input.kind, input.id, current.accountId, 'put');
    return {
      kind: input.kind,
      id: input.id,
      accountId: current.accountId,
      arn,
      name,
      parentId,
      data: input.data,
      revision: this.revision,
    };
  }

  async delete(kind: ResourceKind, id: string): Promise<boolean> {
    const row = this.stmts.selectAccount.get(id, kind) as { account_id: string } | undefined;
    if (!row) return false;
    this.stmts.remove.run(id, kind);
    this.stmts.clearRefs.run(id);
    this.record(kind, id, row.account_id, 'delete');
    return true;
  }

  async putIdempotency(record: IdempotencyRecord): Promise<void> {
    this.stmts.putIdem.run(
      record.accountId,
      record.operation,
      record.clientToken,
      record.requestHash,
      record.response,
      record.createdAt,
    );
  }
}

function translateConstraint(err: unknown, input: ResourceInput): unknown {
  const message = err instanceof Error ? err.message : String(err);
  if (!message.includes('UNIQUE constraint failed')) return err;
  if (message.includes('resources.arn')) {
    return new StoreConflictError(`a resource with ARN ${input.arn} exists`, 'arn');
  }
  if (message.includes('resources.id')) {
    return new StoreConflictError(`a resource with id ${input.id} exists`, 'id');
  }
  return new StoreConflictError(`a ${input.kind} named ${input.name} exists`, 'name');
}

interface WriteStatements {
  insert: Database.Statement;
  update: Database.Statement;
  remove: Database.Statement;
  selectAccount: Database.Statement;
  putIdem: Database.Statement;
  setRevision: Database.Statement;
  insertChange: Database.Statement;
  insertRef: Database.Statement;
  clearRefs: Database.Statement;
  begin: Database.Statement;
  commit: Database.Statement;
}

/** The embedded default store: one SQLite file in WAL mode (DESIGN.md, Decisions). */
export class SqliteStore implements Store {
  readonly adapter = 'sqlite';
  readonly reader: StoreReader;
  private readonly writeDb: Database.Database;
  private readonly readDb: Database.Database;
  private readonly stmts: WriteStatements;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly watchers = new Set<(revision: number) => void>();
  private pollTimer: NodeJS.Timeout | undefined;
  private lastSeenRevision = 0;
  private lastDataVersion = 0;
  private closed = false;

  constructor(private readonly options: SqliteStoreOptions) {
    if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true });
    this.writeDb = new Database(options.filename);
    this.writeDb.pragma('journal_mode = WAL');
    this.writeDb.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.writeDb.pragma('busy_timeout = 5000');
    this.writeDb.pragma('foreign_keys = ON');
    this.migrate();
    // A second connection for reads outside transactions, so they never see uncommitted writes.
    this.readDb = options.filename === ':memory:' ? this.writeDb : new Database(options.filename);
    if (this.readDb !== this.writeDb) this.readDb.pragma('busy_timeout = 5000');
    this.reader = new SqliteReader(this.readDb);
    this.stmts = {
      insert: this.writeDb.prepare(
        'INSERT INTO resources (id, kind, account_id, arn, name, parent_id, data, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      update: this.writeDb.prepare(
        'UPDATE resources SET arn = ?, name = ?, parent_id = ?, data = ?, revision = ? WHERE id = ?',
      ),
      remove: this.writeDb.prepare('DELETE FROM resources WHERE id = ? AND kind = ?'),
      selectAccount: this.writeDb.prepare(
        'SELECT account_id FROM resources WHERE id = ? AND kind = ?',
      ),
      putIdem: this.writeDb.prepare(
        'INSERT OR REPLACE INTO idempotency (account_id, operation, client_token, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      setRevision: this.writeDb.prepare("UPDATE meta SET value = ? WHERE key = 'revision'"),
      begin: this.writeDb.prepare('BEGIN IMMEDIATE'),
      commit: this.writeDb.prepare('COMMIT'),
      insertChange: this.writeDb.prepare(
        'INSERT INTO changes (revision, kind, id, account_id, op) VALUES (?, ?, ?, ?, ?)',
      ),
      insertRef: this.writeDb.prepare(
        'INSERT OR IGNORE INTO resource_refs (ref_id, resource_id) VALUES (?, ?)',
      ),
      clearRefs: this.writeDb.prepare('DELETE FROM resource_refs WHERE resource_id = ?'),
    };
    this.lastSeenRevision = this.readRevision(this.writeDb);
  }

  private migrate(): void {
    const version = this.writeDb.pragma('user_version', { simple: true }) as number;
    for (let i = version; i < SQLITE_MIGRATIONS.length; i++) {
      const step = this.writeDb.transaction(() => {
        this.writeDb.exec(SQLITE_MIGRATIONS[i]!);
        this.writeDb.pragma(`user_version = ${i + 1}`);
      });
      step.immediate();
    }
  }

  private readRevision(db: Database.Database): number {
    const row = statementsFor(db).revision.get() as {
      value: string;
    };
    return Number(row.value);
  }

  async transact<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    // better-sqlite3 is synchronous and has one write connection: transactions queue up here.
    const run = this.queue.then(() => this.runTransaction(fn));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async runTransaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    this.stmts.begin.run();
    let committed = false;
    try {
      const revision = this.readRevision(this.writeDb) + 1;
      const tx = new SqliteTransaction(this.writeDb, revision, this.stmts);
      const result = await fn(tx);
      if (tx.changes.length) {
        for (const c of tx.changes) {
          this.stmts.insertChange.run(c.revision, c.kind, c.id, c.accountId, c.op);
        }
        this.stmts.setRevision.run(String(revision));
      }
      this.stmts.commit.run();
      committed = true;
      if (tx.changes.length) this.notify(revision);
      return result;
    } finally {
      if (!committed && this.writeDb.inTransaction) this.writeDb.exec('ROLLBACK');
    }
  }

  private notify(revision: number): void {
    if (revision <= this.lastSeenRevision) return;
    this.lastSeenRevision = revision;
    for (const w of this.watchers) {
      try {
        w(revision);
      } catch {
        // A watcher's failure is its own; the commit stands.
      }
    }
  }

  async currentRevision(): Promise<number> {
    return this.readRevision(this.readDb);
  }

  async changesSince(fromRevision: number, limit = 10_000): Promise<ChangeEvent[]> {
    const rows = this.readDb
      .prepare(
        'SELECT revision, kind, id, account_id, op FROM changes WHERE revision > ? ORDER BY seq LIMIT ?',
      )
      .all(fromRevision, limit) as {
      revision: number;
      kind: string;
      id: string;
      account_id: string;
      op: string;
    }[];
    return rows.map((r) => ({
      revision: r.revision,
      kind: r.kind as ResourceKind,
      id: r.id,
      accountId: r.account_id,
      op: r.op as 'put' | 'delete',
    }));
  }

  watch(onChange: (revision: number) => void): () => void {
    this.watchers.add(onChange);
    if (!this.pollTimer && !this.closed && this.options.filename !== ':memory:') {
      // Commits by other processes: PRAGMA data_version changes when another connection commits.
      this.lastDataVersion = this.readDb.pragma('data_version', { simple: true }) as number;
      this.pollTimer = setInterval(() => this.poll(), this.options.pollIntervalMs ?? 25);
      this.pollTimer.unref();
    }
    return () => {
      this.watchers.delete(onChange);
      if (!this.watchers.size && this.pollTimer) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
      }
    };
  }

  private poll(): void {
    const version = this.readDb.pragma('data_version', { simple: true }) as number;
    if (version === this.lastDataVersion) return;
    this.lastDataVersion = version;
    this.notify(this.readRevision(this.readDb));
  }

  async putTargetHealth(records: TargetHealthRecord[]): Promise<void> {
    const stmt = this.writeDb.prepare(
      'INSERT OR REPLACE INTO target_health (target_group_id, target_id, port, status, reason_code, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    await this.transactRaw(() => {
      for (const r of records) {
        stmt.run(r.targetGroupId, r.targetId, r.port, r.status, r.reasonCode ?? null, r.updatedAt);
      }
    });
  }

  async getTargetHealth(targetGroupId: string): Promise<TargetHealthRecord[]> {
    const rows = this.readDb
      .prepare('SELECT * FROM target_health WHERE target_group_id = ?')
      .all(targetGroupId) as {
      target_group_id: string;
      target_id: string;
      port: number;
      status: string;
      reason_code: string | null;
      updated_at: string;
    }[];
    return rows.map((r) => {
      const rec: TargetHealthRecord = {
        targetGroupId: r.target_group_id,
        targetId: r.target_id,
        port: r.port,
        status: r.status as TargetStatus,
        updatedAt: r.updated_at,
      };
      if (r.reason_code) rec.reasonCode = r.reason_code;
      return rec;
    });
  }

  async deleteTargetHealth(targetGroupId: string, targetId?: string, port?: number): Promise<void> {
    await this.transactRaw(() => {
      if (targetId === undefined) {
        this.writeDb
          .prepare('DELETE FROM target_health WHERE target_group_id = ?')
          .run(targetGroupId);
      } else if (port === undefined) {
        this.writeDb
          .prepare('DELETE FROM target_health WHERE target_group_id = ? AND target_id = ?')
          .run(targetGroupId, targetId);
      } else {
        this.writeDb
          .prepare(
            'DELETE FROM target_health WHERE target_group_id = ? AND target_id = ? AND port = ?',
          )
          .run(targetGroupId, targetId, port);
      }
    });
  }

  async addUsage(increments: UsageIncrement[]): Promise<void> {
    const stmt = this.writeDb.prepare(
      `INSERT INTO usage (service_id, hour, requests, bytes_processed) VALUES (?, ?, ?, ?)
       ON CONFLICT(service_id, hour) DO UPDATE SET requests = requests + excluded.requests,
         bytes_processed = bytes_processed + excluded.bytes_processed`,
    );
    await this.transactRaw(() => {
      for (const u of increments) stmt.run(u.serviceId, u.hour, u.requests, u.bytesProcessed);
    });
  }

  async listUsage(filter: { hour?: string; serviceId?: string }): Promise<UsageIncrement[]> {
    const clauses: string[] = [];
    const params: string[] = [];
    if (filter.hour) {
      clauses.push('hour = ?');
      params.push(filter.hour);
    }
    if (filter.serviceId) {
      clauses.push('service_id = ?');
      params.push(filter.serviceId);
    }
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = this.readDb
      .prepare(`SELECT * FROM usage ${where} ORDER BY hour, service_id`)
      .all(...params) as {
      service_id: string;
      hour: string;
      requests: number;
      bytes_processed: number;
    }[];
    return rows.map((r) => ({
      serviceId: r.service_id,
      hour: r.hour,
      requests: r.requests,
      bytesProcessed: r.bytes_processed,
    }));
  }

  /** Side-table writes (no revision bump) queued behind resource transactions. */
  private transactRaw(fn: () => void): Promise<void> {
    const run = this.queue.then(() => {
      this.writeDb.transaction(fn).immediate();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.queue;
    if (this.readDb !== this.writeDb) this.readDb.close();
    this.writeDb.close();
  }
}

export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}
