import { join } from 'node:path';
import type { Logger } from 'pino';
import type { FunctionSettings } from '../config/function-settings.js';
import { createFunctionRunner, extractZip, type FunctionRunner } from '../functions/index.js';
import {
  issueExecutionCredentials,
  registerStoredFunctions,
  type FunctionsConfig,
} from '../manager/functions.js';
import type { ManagerContext } from '../manager/manager-context.js';
import type { Store } from '../store/store.js';

/** The function runner as `trellis up` runs it. */
export interface RunningFunctions {
  runner: FunctionRunner;
  /** What the Lambda API operations need. */
  config: FunctionsConfig;
  stop(): Promise<void>;
}

/**
 * Wires the local function runner (issue 6): execution-role credentials from the STS side of the
 * manager, `AWS_ENDPOINT_URL` pointing at this Trellis, stored functions registered (loaded on
 * their first invocation), external endpoints from the settings.
 */
export async function startFunctions(deps: {
  dataDir: string;
  settings: FunctionSettings;
  store: Store;
  ctx: ManagerContext;
  log: Logger;
  /** The API endpoint, once it listens. */
  endpointUrl: () => string | undefined;
}): Promise<RunningFunctions> {
  const fnLog = deps.log.child({ part: 'functions' });
  const runner = createFunctionRunner({
    dataDir: deps.dataDir,
    region: deps.ctx.region,
    endpointUrl: deps.endpointUrl,
    credentials: (roleArn, functionName) =>
      issueExecutionCredentials(deps.store, deps.ctx, roleArn, functionName),
    externalEndpoints: deps.settings.externalEndpoints,
    ...(deps.settings.concurrency !== undefined
      ? { defaultConcurrency: deps.settings.concurrency }
      : {}),
    logger: {
      info: (message, fields) => fnLog.info(fields ?? {}, message),
      warn: (message, fields) => fnLog.warn(fields ?? {}, message),
    },
  });
  await runner.start();
  const registered = await registerStoredFunctions(deps.store, runner);
  if (registered > 0) fnLog.info({ functions: registered }, 'local functions registered');
  return {
    runner,
    config: {
      runtime: runner,
      codeRoot: join(deps.dataDir, 'functions', 'code'),
      extractZip,
      externalEndpoints: deps.settings.externalEndpoints,
    },
    stop: () => runner.stop(),
  };
}
