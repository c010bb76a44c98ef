/**
 * An in-process control plane for wire-format tests of the IAM/STS Query services: the real API
 * edge, Query services, managers and authorizer on an in-memory store, with a stand-in
 * authenticator that trusts the access key named in the SigV4 credential scope (signature
 * checking is the SigV4 verifier's job and has its own tests). The clock is injectable.
 */
import type { AddressInfo } from 'node:net';
import { createApiServer, type Authenticator } from '../../src/api/api-server.js';
import { createIamQueryServices } from '../../src/api/iam-services.js';
import { LATTICE_OPERATIONS } from '../../src/api/operation-table.js';
import { AuthenticationError } from '../../src/errors/aws-errors.js';
import { defaultQuotaValues } from '../../src/model/quotas.js';
import { ensureDefaultAccount, findAccessKey } from '../../src/manager/accounts.js';
import type { ManagerContext } from '../../src/manager/manager-context.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

export interface InProcessTrellis {
  endpoint: string;
  region: string;
  accountId: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  store: Store;
  /** Moves the control plane's clock (ms added to real time). */
  advanceClock(ms: number): void;
  stop(): Promise<void>;
}

function createTrustingAuthenticator(store: Store, now: () => number): Authenticator {
  return {
    async authenticate(request) {
      const auth = String(request.headers.authorization ?? '');
      const m = /Credential=([^/]+)\/\d{8}\/[^/]+\/([^/]+)\//.exec(auth);
      if (!m)
        throw new AuthenticationError(
          'MissingAuthenticationTokenException',
          'Missing Authentication Token',
        );
      const key = await findAccessKey(store.reader, m[1] as string);
      if (!key || key.status !== 'Active') {
        throw new AuthenticationError(
          'UnrecognizedClientException',
          'The security token included in the request is invalid.',
        );
      }
      if (key.expiration && Date.parse(key.expiration) <= now()) {
        throw new AuthenticationError(
          'ExpiredTokenException',
          'The security token included in the request is expired',
        );
      }
      return {
        accountId: key.accountId,
        principalArn: key.principalArn,
        accessKeyId: key.accessKeyId,
        signingService: m[2] as string,
      };
    },
  };
}

/** Starts the in-process control plane on 127.0.0.1:0. */
export async function startInProcess(): Promise<InProcessTrellis> {
  const region = 'us-east-1';
  const accountId = '111122223333';
  let skew = 0;
  const store = createSqliteStore({ filename: ':memory:' });
  const admin = await ensureDefaultAccount(store, 'aws', accountId);
  const ctx: ManagerContext = {
    partition: 'aws',
    region,
    quotas: defaultQuotaValues(),
    operatorAccountId: accountId,
    now: () => new Date(Date.now() + skew).toISOString(),
  };
  const iam = createIamQueryServices({ store, ctx });
  const api = createApiServer({
    store,
    ctx,
    operations: LATTICE_OPERATIONS,
    authenticator: createTrustingAuthenticator(store, () => Date.now() + skew),
    authorizer: iam.authorizer,
    queryServices: iam.queryServices,
  });
  const address: AddressInfo = await api.start('127.0.0.1', 0);
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    region,
    accountId,
    credentials: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey },
    store,
    advanceClock: (ms) => {
      skew += ms;
    },
    async stop() {
      await api.stop();
      await store.close();
    },
  };
}
