import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { defaultQuotaValues } from '../model/quotas.js';
import { createSqliteStore, type SqliteStore } from '../store/sqlite/sqlite-store.js';
import { ensureDefaultVpc } from './default-vpc.js';
import type { ManagerContext, WriteScope } from './manager-context.js';
import { createTargetGroup } from './target-groups.js';
import { deregisterTargets, listTargets, registerTargets } from './targets.js';

// Draining lasts 60 s (spec §1.5); a settable clock shows its end without waiting.
let store: SqliteStore;
let clock = Date.parse('2026-01-01T00:00:00.000Z');
const forgotten: string[] = [];
const ctx: ManagerContext = {
  partition: 'aws',
  region: 'us-east-1',
  quotas: defaultQuotaValues(),
  operatorAccountId: '111122223333',
  now: () => new Date(clock).toISOString(),
  targetHealth: {
    get: async () => [],
    forget: (tg, id, port) => forgotten.push(`${tg}/${id}:${port}`),
  },
};
const caller = {
  accountId: '111122223333',
  principalArn: 'arn:aws:iam::111122223333:root',
  accessKeyId: 'AKIA',
};

function write<T>(fn: (scope: WriteScope) => Promise<T>): Promise<T> {
  return store.transact((tx) => fn({ ctx, caller, reader: tx, tx }));
}

before(async () => {
  store = createSqliteStore({ filename: ':memory:' });
  await ensureDefaultVpc(store, caller.accountId, '127.0.0.1');
});
after(() => store.close());

test('a draining target is listed DRAINING until 60 s pass, then removed by the next write', async () => {
  const tg = await write((s) =>
    createTargetGroup(s, {
      name: 'drain',
      type: 'IP',
      config: { protocol: 'HTTP', vpcIdentifier: 'vpc-0111122223333def0' },
    }),
  );
  const id = tg.id as string;
  await write((s) => registerTargets(s, id, { targets: [{ id: '10.0.0.1' }, { id: '10.0.0.2' }] }));
  await write((s) => deregisterTargets(s, id, { targets: [{ id: '10.0.0.1' }] }));
  const list = async (): Promise<[unknown, unknown][]> => {
    const out = (await write((s) => listTargets(s, id, {}, {}))) as {
      items: { id: string; status: string }[];
    };
    return out.items.map((t) => [t.id, t.status]);
  };
  clock += 59_000;
  assert.deepEqual(await list(), [
    ['10.0.0.1', 'DRAINING'],
    ['10.0.0.2', 'UNUSED'],
  ]);
  clock += 1_000;
  assert.deepEqual(await list(), [['10.0.0.2', 'UNUSED']]);
  assert.equal(await store.reader.count({ kind: 'target', parentId: id }), 1);
  assert.ok(forgotten.includes(`${id}/10.0.0.1:80`), 'its health record is dropped too');
  // Registering it again now makes a fresh target.
  const again = await write((s) => registerTargets(s, id, { targets: [{ id: '10.0.0.1' }] }));
  assert.deepEqual(again.successful, [{ id: '10.0.0.1', port: 80 }]);
  assert.deepEqual(await list(), [
    ['10.0.0.1', 'UNUSED'],
    ['10.0.0.2', 'UNUSED'],
  ]);
});
