import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runStoreContract } from '../store-contract.js';
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
