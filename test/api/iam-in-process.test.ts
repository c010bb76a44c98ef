/**
 * The shared IAM/STS cases against the API edge in this process (in-memory store, trusting
 * authenticator). Session expiry is tested with the injected clock: the control plane's clock
 * moves past the session's expiration.
 */
import { describeIamAndSts, type IamTarget } from './iam-cases.js';
import { startInProcess } from './iam-in-process.js';

async function start(): Promise<IamTarget> {
  const t = await startInProcess();
  return {
    endpoint: t.endpoint,
    region: t.region,
    accountId: t.accountId,
    credentials: t.credentials,
    expiryMethod: 'injected clock moved 901 s ahead',
    async expireSession() {
      t.advanceClock(901_000);
    },
    stop: () => t.stop(),
  };
}

describeIamAndSts('in process', start);
