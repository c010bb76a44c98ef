/** The local function runner's public surface (what `bin/` wires). */
export { createFunctionRunner, resolveHandler } from './function-runner.js';
export type {
  DeployResult,
  ExecutionCredentials,
  ExecutionCredentialSource,
  FunctionRunner,
  FunctionRunnerOptions,
  RunnerLogger,
} from './function-runner.js';
export { invokeExternal, signLambdaRequest } from './external-endpoint.js';
export { readZip, extractZip } from './zip-reader.js';
export type { ZipEntry } from './zip-reader.js';
