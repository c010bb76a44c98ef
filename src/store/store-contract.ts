import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Store } from './store.js';
import { StoreConflictError } from './store-errors.js';

/**
 * The behaviour every Store adapter must share (Kuma-style contract suite). Each adapter's test
 * file calls this with a factory that gives a fresh, empty store.
 */
export function runStoreContract(adapter: string, open: () => Promise<Store>): void {
  const withStore = (name: string, fn: (s: Store) => Promise<void>): void => {
    test(`${adapter}: ${name}`, async () => {
      const store = await open();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });
  };

  withStore(
    'refs: refersTo lists the referring resources; update replaces, delete and rollback drop',
    async (s) => {
      const ids = async (kind: 'listener' | 'rule', ref: string, accountId?: string) =>
        (await s.reader.list({ kind, refersTo: ref, ...(accountId ? { accountId } : {}) })).items
          .map((r) => r.id)
          .sort();
      await s.transact(async (tx) => {
        await tx.insert({
          kind: 'listener',
          id: 'l-1',
          accountId: 'a',
          data: {},
          refs: ['tg-1', 'tg-2'],
        });
        await tx.insert({
          kind: 'listener',
          id: 'l-2',
          accountId: 'a',
          data: {},
          refs: ['tg-2', 'tg-2'],
        });
        await tx.insert({ kind: 'rule', id: 'r-1', accountId: 'b', data: {}, refs: ['tg-2'] });
        await tx.insert({ kind: 'listener', id: 'l-3', accountId: 'a', data: {} });
      });
      assert.deepEqual(await ids('listener', 'tg-1'), ['l-1']);
      assert.deepEqual(await ids('listener', 'tg-2'), ['l-1', 'l-2']);
      assert.deepEqual(await ids('rule', 'tg-2'), ['r-1']);
      assert.deepEqual(await ids('rule', 'tg-2', 'a'), []);
      assert.equal(await s.reader.count({ kind: 'listener', refersTo: 'tg-2' }), 2);
      await s.transact(async (tx) => {
        await tx.update({ kind: 'listener', id: 'l-1', accountId: 'a', data: { x: 1 } });
        await tx.update({ kind: 'listener', id: 'l-2', accountId: 'a', data: {}, refs: ['tg-3'] });
      });
      assert.deepEqual(await ids('listener', 'tg-1'), ['l-1'], 'an update without refs keeps them');
      assert.deepEqual(await ids('listener', 'tg-2'), ['l-1']);
      assert.deepEqual(await ids('listener', 'tg-3'), ['l-2']);
      await assert.rejects(
        s.transact(async (tx) => {
          await tx.delete('listener', 'l-1');
          await tx.update({ kind: 'listener', id: 'l-2', accountId: 'a', data: {}, refs: [] });
          throw new Error('roll back');
        }),
      );
      assert.deepEqual(await ids('listener', 'tg-1'), ['l-1']);
      assert.deepEqual(await ids('listener', 'tg-3'), ['l-2']);
      await s.transact(async (tx) => {
        await tx.delete('listener', 'l-1');
      });
      assert.deepEqual(await ids('listener', 'tg-1'), []);
      await s.transact(async (tx) => {
        await tx.insert({ kind: 'listener', id: 'l-1', accountId: 'a', data: {} });
      });
      assert.deepEqual(
        await ids('listener', 'tg-1'),
        [],
        'a deleted resource leaves no refs behind',
      );
    },
  );

  withStore('insert, get, getByArn, getByName', async (s) => {
    assert.equal(await s.currentRevision(), 0);
    await s.transact(async (tx) => {
      await tx.insert({
        kind: 'service',
        id: 'svc-1',
        accountId: 'a',
        arn: 'arn:x:svc-1',
        name: 'one',
        data: { n: 1 },
      });
    });
    const r = await s.reader.get<{ n: number }>('service', 'svc-1');
    assert.equal(r?.data.n, 1);
    assert.equal(r?.revision, 1);
    assert.equal((await s.reader.getByArn('arn:x:svc-1'))?.id, 'svc-1');
    assert.equal((await s.reader.getByName('service', 'a', 'one'))?.id, 'svc-1');
    assert.equal(await s.reader.getByName('service', 'b', 'one'), undefined);
    assert.equal(
      await s.reader.get('service-network', 'svc-1'),
      undefined,
      'kind is part of the key',
    );
  });

  withStore('one revision per transaction, none for a read-only one', async (s) => {
    await s.transact(async (tx) => {
      await tx.insert({ kind: 'service', id: 'svc-1', accountId: 'a', data: {} });
      await tx.insert({ kind: 'service', id: 'svc-2', accountId: 'a', data: {} });
    });
    assert.equal(await s.currentRevision(), 1);
    await s.transact(async (tx) => {
      await tx.get('service', 'svc-1');
    });
    assert.equal(await s.currentRevision(), 1);
    const changes = await s.changesSince(0);
    assert.deepEqual(
      changes.map((c) => [c.revision, c.id, c.op]),
      [
        [1, 'svc-1', 'put'],
        [1, 'svc-2', 'put'],
      ],
    );
  });

  withStore('a failed transaction leaves nothing behind', async (s) => {
    await assert.rejects(
      s.transact(async (tx) => {
        await tx.insert({ kind: 'service', id: 'svc-1', accountId: 'a', data: {} });
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await s.reader.get('service', 'svc-1'), undefined);
    assert.equal(await s.currentRevision(), 0);
    assert.deepEqual(await s.changesSince(0), []);
  });

  withStore('unique names per (kind, account, parent); conflicts are typed', async (s) => {
    await s.transact(async (tx) => {
      await tx.insert({
        kind: 'listener',
        id: 'l-1',
        accountId: 'a',
        parentId: 'svc-1',
        name: 'web',
        data: {},
      });
      await tx.insert({
        kind: 'listener',
        id: 'l-2',
        accountId: 'a',
        parentId: 'svc-2',
        name: 'web',
        data: {},
      });
    });
    await assert.rejects(
      s.transact((tx) =>
        tx.insert({
          kind: 'listener',
          id: 'l-3',
          accountId: 'a',
          parentId: 'svc-1',
          name: 'web',
          data: {},
        }),
      ),
      (err: unknown) => err instanceof StoreConflictError && err.field === 'name',
    );
    await assert.rejects(
      s.transact((tx) => tx.insert({ kind: 'listener', id: 'l-1', accountId: 'a', data: {} })),
      (err: unknown) => err instanceof StoreConflictError && err.field === 'id',
    );
  });

  withStore('update with expected revision; delete', async (s) => {
    const first = await s.transact((tx) =>
      tx.insert({ kind: 'service', id: 'svc-1', accountId: 'a', name: 'x', data: { v: 1 } }),
    );
    await s.transact((tx) =>
      tx.update({ kind: 'service', id: 'svc-1', accountId: 'a', data: { v: 2 } }, first.revision),
    );
    await assert.rejects(
      s.transact((tx) =>
        tx.update({ kind: 'service', id: 'svc-1', accountId: 'a', data: { v: 3 } }, first.revision),
      ),
      (err: unknown) => err instanceof StoreConflictError && err.field === 'revision',
    );
    const r = await s.reader.get<{ v: number }>('service', 'svc-1');
    assert.equal(r?.data.v, 2);
    assert.equal(r?.name, 'x', 'name kept when not given');
    assert.equal(await s.transact((tx) => tx.delete('service', 'svc-1')), true);
    assert.equal(await s.transact((tx) => tx.delete('service', 'svc-1')), false);
    const ops = (await s.changesSince(0)).map((c) => c.op);
    assert.deepEqual(ops, ['put', 'put', 'delete']);
  });

  withStore('list: filters, data fields, keyset pages, count', async (s) => {
    await s.transact(async (tx) => {
      for (let i = 0; i < 25; i++) {
        const id = `snsa-${String(i).padStart(3, '0')}`;
        await tx.insert({
          kind: 'service-network-service-association',
          id,
          accountId: i % 2 ? 'a' : 'b',
          data: { serviceNetworkId: i < 10 ? 'sn-1' : 'sn-2' },
        });
      }
    });
    const all: string[] = [];
    let afterId: string | undefined;
    do {
      const page = await s.reader.list({
        kind: 'service-network-service-association',
        limit: 10,
        ...(afterId ? { afterId } : {}),
      });
      all.push(...page.items.map((i) => i.id));
      afterId = page.lastId;
    } while (afterId);
    assert.equal(all.length, 25);
    assert.deepEqual([...all].sort(), all, 'ordered by id');
    assert.equal(
      await s.reader.count({
        kind: 'service-network-service-association',
        where: { serviceNetworkId: 'sn-1' },
      }),
      10,
    );
    assert.equal(
      await s.reader.count({
        kind: 'service-network-service-association',
        accountId: 'a',
        where: { serviceNetworkId: 'sn-2' },
      }),
      7,
    );
  });

  withStore('watch is told about commits', async (s) => {
    const seen: number[] = [];
    const off = s.watch((rev) => seen.push(rev));
    await s.transact((tx) => tx.insert({ kind: 'vpc', id: 'vpc-1', accountId: 'a', data: {} }));
    await s.transact((tx) => tx.insert({ kind: 'vpc', id: 'vpc-2', accountId: 'a', data: {} }));
    off();
    await s.transact((tx) => tx.insert({ kind: 'vpc', id: 'vpc-3', accountId: 'a', data: {} }));
    assert.deepEqual(seen, [1, 2]);
  });

  withStore('transactions are serialised', async (s) => {
    await s.transact((tx) =>
      tx.insert({ kind: 'account', id: 'counter', accountId: 'a', data: { n: 0 } }),
    );
    await Promise.all(
      Array.from({ length: 20 }, () =>
        s.transact(async (tx) => {
          const r = await tx.get<{ n: number }>('account', 'counter');
          await new Promise((res) => setImmediate(res));
          await tx.update({
            kind: 'account',
            id: 'counter',
            accountId: 'a',
            data: { n: r!.data.n + 1 },
          });
        }),
      ),
    );
    assert.equal((await s.reader.get<{ n: number }>('account', 'counter'))?.data.n, 20);
  });

  withStore('idempotency records', async (s) => {
    await s.transact((tx) =>
      tx.putIdempotency({
        accountId: 'a',
        operation: 'CreateService',
        clientToken: 't',
        requestHash: 'h',
        response: '{}',
        createdAt: 'now',
      }),
    );
    assert.equal((await s.reader.getIdempotency('a', 'CreateService', 't'))?.requestHash, 'h');
    assert.equal(await s.reader.getIdempotency('b', 'CreateService', 't'), undefined);
  });

  withStore('target health and usage side tables', async (s) => {
    await s.putTargetHealth([
      { targetGroupId: 'tg-1', targetId: '10.0.0.1', port: 80, status: 'HEALTHY', updatedAt: 't' },
    ]);
    await s.putTargetHealth([
      {
        targetGroupId: 'tg-1',
        targetId: '10.0.0.1',
        port: 80,
        status: 'UNHEALTHY',
        reasonCode: 'Timeout',
        updatedAt: 't2',
      },
    ]);
    const h = await s.getTargetHealth('tg-1');
    assert.equal(h.length, 1);
    assert.equal(h[0]?.status, 'UNHEALTHY');
    assert.equal(await s.currentRevision(), 0, 'health writes do not bump the revision');
    await s.deleteTargetHealth('tg-1');
    assert.deepEqual(await s.getTargetHealth('tg-1'), []);
    await s.addUsage([
      { serviceId: 'svc-1', hour: '2026-01-01T00', requests: 2, bytesProcessed: 10 },
    ]);
    await s.addUsage([
      { serviceId: 'svc-1', hour: '2026-01-01T00', requests: 3, bytesProcessed: 5 },
    ]);
    assert.deepEqual(await s.listUsage({ serviceId: 'svc-1' }), [
      { serviceId: 'svc-1', hour: '2026-01-01T00', requests: 5, bytesProcessed: 15 },
    ]);
  });
}
