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

test('ListTargets pages through the store in id order; an expired target met on a page is dropped', async () => {
  const tg = await write((s) =>
    createTargetGroup(s, {
      name: 'paged',
      type: 'IP',
      config: { protocol: 'HTTP', vpcIdentifier: 'vpc-0111122223333def0' },
    }),
  );
  const id = tg.id as string;
  const ips = Array.from({ length: 25 }, (_, i) => `10.0.1.${i + 1}`);
  await write((s) => registerTargets(s, id, { targets: ips.map((ip) => ({ id: ip })) }));
  await write((s) => deregisterTargets(s, id, { targets: [{ id: '10.0.1.7' }] }));
  clock += 60_000; // 10.0.1.7's deregistration delay is over
  const seen: string[] = [];
  const sizes: number[] = [];
  let nextToken: string | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const out = (await write((s) =>
      listTargets(s, id, {}, { maxResults: '10', ...(nextToken ? { nextToken } : {}) }),
    )) as { items: { id: string }[]; nextToken?: string };
    sizes.push(out.items.length);
    seen.push(...out.items.map((t) => t.id));
    nextToken = out.nextToken;
    if (nextToken === undefined) break;
  }
  assert.ok(
    sizes.every((n) => n <= 10),
    `pages of at most maxResults: ${sizes.join(',')}`,
  );
  assert.deepEqual(
    [...seen].sort(),
    ips.filter((ip) => ip !== '10.0.1.7').sort(),
    'every live target once, the expired one never',
  );
  assert.equal(new Set(seen).size, seen.length, 'no target on two pages');
  assert.equal(await store.reader.count({ kind: 'target', parentId: id }), 24, 'it is deleted');
  // A filter still answers from the whole group.
  const filtered = (await write((s) =>
    listTargets(s, id, { targets: [{ id: '10.0.1.25' }] }, {}),
  )) as { items: { id: string }[] };
  assert.deepEqual(
    filtered.items.map((t) => t.id),
    ['10.0.1.25'],
  );
});
