/**
 * Versioned schema migrations of the SQLite adapter. Each entry runs once, in order, inside a
 * transaction; `PRAGMA user_version` records how far a database has come.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  // 1: resources, change feed, idempotency, target health, usage
  `
  CREATE TABLE resources (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    account_id TEXT NOT NULL,
    arn TEXT UNIQUE,
    name TEXT,
    parent_id TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL,
    revision INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX resources_name ON resources(kind, account_id, parent_id, name)
    WHERE name IS NOT NULL;
  CREATE INDEX resources_kind_account ON resources(kind, account_id, id);
  CREATE INDEX resources_kind_parent ON resources(kind, parent_id, id);
  CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    revision INTEGER NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    op TEXT NOT NULL
  );
  CREATE INDEX changes_revision ON changes(revision);
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  INSERT INTO meta(key, value) VALUES ('revision', '0');
  CREATE TABLE idempotency (
    account_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    client_token TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, operation, client_token)
  );
  CREATE TABLE target_health (
    target_group_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    port INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason_code TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (target_group_id, target_id, port)
  );
  CREATE TABLE usage (
    service_id TEXT NOT NULL,
    hour TEXT NOT NULL,
    requests INTEGER NOT NULL,
    bytes_processed INTEGER NOT NULL,
    PRIMARY KEY (service_id, hour)
  );
  `,
  // 2: expression indexes for the association filters every create, delete and count uses
  // (`where: { serviceNetworkId }` etc.), so they stop scanning every row of a kind.
  `
  CREATE INDEX resources_data_service_network ON resources(kind, json_extract(data, '$.serviceNetworkId'));
  CREATE INDEX resources_data_service ON resources(kind, json_extract(data, '$.serviceId'));
  CREATE INDEX resources_data_vpc ON resources(kind, json_extract(data, '$.vpcId'));
  `,
  // 3: which resources refer to which (`ResourceInput.refs`, `ListQuery.refersTo`), kept in the
  // write's transaction, so "which listeners and rules forward to this target group" (spec §1.5
  // TargetGroup) stops reading every listener and rule of the account. Backfilled from the
  // forwards already stored (stored actions hold bare target-group ids).
  `
  CREATE TABLE resource_refs (
    ref_id TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    PRIMARY KEY (ref_id, resource_id)
  ) WITHOUT ROWID;
  CREATE INDEX resource_refs_resource ON resource_refs(resource_id);
  INSERT OR IGNORE INTO resource_refs (ref_id, resource_id)
    SELECT json_extract(f.value, '$.targetGroupIdentifier'), r.id
    FROM resources r, json_each(r.data, '$.defaultAction.forward.targetGroups') f
    WHERE r.kind = 'listener' AND json_extract(f.value, '$.targetGroupIdentifier') IS NOT NULL;
  INSERT OR IGNORE INTO resource_refs (ref_id, resource_id)
    SELECT json_extract(f.value, '$.targetGroupIdentifier'), r.id
    FROM resources r, json_each(r.data, '$.action.forward.targetGroups') f
    WHERE r.kind = 'rule' AND json_extract(f.value, '$.targetGroupIdentifier') IS NOT NULL;
  `,
];
