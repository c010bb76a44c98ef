/**
 * The shared IAM/STS cases' target backed by a real `trellis up` process. Session expiry is
 * tested with a directly expired record: the test opens the process's SQLite file and moves the
 * session key's `expiration` into the past (the server reads the key on every request).
 */
import { join } from 'node:path';
import type { AccessKey } from '../../src/model/iam-types.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { startTrellis } from '../support/trellis-process.js';
import type { IamTarget } from './iam-cases.js';

/** Starts `trellis up` on a temporary data dir and wraps it as an {@link IamTarget}. */
export async function startRealTarget(): Promise<IamTarget> {
  const t = await startTrellis();
  return {
    endpoint: t.endpoint,
    region: t.region,
    accountId: t.accountId,
    credentials: t.credentials,
    expiryMethod: 'session record expired directly in the store file',
    async expireSession(accessKeyId) {
      const store = createSqliteStore({ filename: join(t.dataDir, 'trellis.db') });
      try {
        await store.transact(async (tx) => {
          const key = await tx.get<AccessKey>('access-key', accessKeyId);
          if (!key) throw new Error(`no session key ${accessKeyId}`);
          await tx.update({
            kind: 'access-key',
            id: key.id,
            accountId: key.accountId,
            parentId: key.parentId,
            data: { ...key.data, expiration: new Date(Date.now() - 1000).toISOString() },
          });
        });
      } finally {
        await store.close();
      }
    },
    async stop() {
      const code = await t.stop();
      if (code !== 0 && code !== null)
        throw new Error(`trellis up exited with ${code}:\n${t.output()}`);
    },
  };
}
