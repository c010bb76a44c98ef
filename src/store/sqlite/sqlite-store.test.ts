import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { runStoreContract } from '../store-contract.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { createSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'trellis-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runStoreContract('sqlite', async () => createSqliteStore({ filename: join(dir, `s${n++}.db`) }));

test('sqlite: a second process-like connection sees commits through watch polling', async () => {
  const file = join(dir, 'shared.db');
  const writer = createSqliteStore({ filename: file });
  const follower = createSqliteStore({ filename: file, pollIntervalMs: 5 });
  try {
    const seen = new Promise<number>((resolve) => follower.watch(resolve));
    await writer.transact((tx) =>
      tx.insert({ kind: 'vpc', id: 'vpc-1', accountId: 'a', data: {} }),
    );
    // The poll timer is unref'd (watching alone must not keep a process alive), so this test
    // holds the event loop open itself while it waits, and fails if no poll notices the commit.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no change noticed within 5 s')), 5000);
    });
    try {
      assert.equal(await Promise.race([seen, timeout]), 1);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await follower.close();
    await writer.close();
  }
});

test('sqlite: migrations are versioned and a reopened file keeps its data', async () => {
  const file = join(dir, 'reopen.db');
  const a = createSqliteStore({ filename: file });
  await a.transact((tx) => tx.insert({ kind: 'vpc', id: 'vpc-1', accountId: 'a', data: { x: 1 } }));
  await a.close();
  const b = createSqliteStore({ filename: file });
  assert.equal((await b.reader.get<{ x: number }>('vpc', 'vpc-1'))?.data.x, 1);
  assert.equal(await b.currentRevision(), 1);
  await b.close();
});

test('sqlite: migration 3 backfills the target-group references of stored listeners and rules', async () => {
  // A file as a Trellis before migration 3 left it: migrations 1–2, a listener and a rule.
  const file = join(dir, 'before-refs.db');
  const db = new Database(file);
  db.exec(SQLITE_MIGRATIONS[0]!);
  db.exec(SQLITE_MIGRATIONS[1]!);
  db.pragma('user_version = 2');
  const insert = db.prepare(
    "INSERT INTO resources (id, kind, account_id, parent_id, data, revision) VALUES (?, ?, 'a', '', ?, 1)",
  );
  const forward = (...ids: string[]) => ({
    forward: { targetGroups: ids.map((targetGroupIdentifier) => ({ targetGroupIdentifier })) },
  });
  insert.run('listener-1', 'listener', JSON.stringify({ defaultAction: forward('tg-1', 'tg-2') }));
  insert.run('listener-2', 'listener', JSON.stringify({ defaultAction: { fixedResponse: {} } }));
  insert.run('rule-1', 'rule', JSON.stringify({ action: forward('tg-2') }));
  db.close();
  const s = createSqliteStore({ filename: file });
  try {
    const ids = async (kind: 'listener' | 'rule', ref: string) =>
      (await s.reader.list({ kind, refersTo: ref })).items.map((r) => r.id);
    assert.deepEqual(await ids('listener', 'tg-1'), ['listener-1']);
    assert.deepEqual(await ids('listener', 'tg-2'), ['listener-1']);
    assert.deepEqual(await ids('rule', 'tg-2'), ['rule-1']);
    assert.deepEqual(await ids('rule', 'tg-1'), []);
  } finally {
    await s.close();
  }
});
