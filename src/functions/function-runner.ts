import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  functionNameOf,
  unqualifiedFunctionArn,
  type FunctionDefinition,
  type FunctionInvokeOptions,
  type FunctionInvokeResult,
} from '../model/function-types.js';
import { invokeExternal, type SigningCredentials } from './external-endpoint.js';
import {
  FunctionPool,
  type CredentialEnv,
  type LoadFailure,
  type LoadPlan,
} from './function-pool.js';
import { buildTypeScriptHandler } from './typescript-build.js';

/** Temporary credentials of an execution role (what STS AssumeRole gives). */
export interface ExecutionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO-8601. */
  expiration: string;
}

/** Issues credentials for `roleArn` (wired by `bin/` to the STS manager). */
export type ExecutionCredentialSource = (
  roleArn: string,
  sessionName: string,
) => Promise<ExecutionCredentials>;

/** Minimal logger (pino-compatible argument order is not assumed). */
export interface RunnerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Options of `createFunctionRunner`. */
export interface FunctionRunnerOptions {
  /** Function logs go to `<dataDir>/functions/logs/<name>.log`. */
  dataDir: string;
  region: string;
  /** `AWS_ENDPOINT_URL` for handlers (the Trellis API); read when a worker starts. */
  endpointUrl?: () => string | undefined;
  credentials?: ExecutionCredentialSource;
  /** Function name or ARN → external Invoke-API endpoint URL (e.g. SAM local). */
  externalEndpoints?: Readonly<Record<string, string>>;
  /** Credentials external endpoints are signed with. Default dummy keys (SAM local ignores them). */
  externalCredentials?: SigningCredentials;
  /** Workers per function unless its definition says. Default min(4, CPUs). */
  defaultConcurrency?: number;
  /** Invocations that may wait per function. Default 1000. */
  maxQueue?: number;
  /** Refresh role credentials this long before they expire. Default 5 minutes. */
  credentialRefreshMarginMs?: number;
  logger?: RunnerLogger;
}

/** The result of deploying a local function: loaded, or the loader's error. */
export type DeployResult = { ok: true } | ({ ok: false } & LoadFailure);

/** The local function runner (create → start → stop). */
export interface FunctionRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Loads the module in a worker now (kept warm); replaces a function of the same name. */
  deploy(def: FunctionDefinition): Promise<DeployResult>;
  /** Registers a function without loading it (start-up: loaded on first invocation). */
  register(def: FunctionDefinition): void;
  remove(nameOrArn: string): Promise<void>;
  /** Invokes by name or ARN: external endpoints first, then local functions. Never throws. */
  invoke(
    nameOrArn: string,
    payload: string,
    options?: FunctionInvokeOptions,
  ): Promise<FunctionInvokeResult>;
  /** Path of a function's log file. */
  logFile(name: string): string;
  /** Live workers of a local function, by name or ARN (0 when unknown). */
  workerCount(nameOrArn: string): number;
}

const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

/** `file.export` → the module file in `codeDir` and the export, or a Lambda-style failure. */
export function resolveHandler(
  codeDir: string,
  handler: string,
  tsxUrl: string | undefined,
): LoadPlan | LoadFailure {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1)
    return {
      errorType: 'Runtime.MalformedHandlerName',
      errorMessage: `Bad handler ${handler}: expected file.export`,
    };
  const file = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  const root = resolve(codeDir);
  const base = resolve(root, file);
  if (base !== root && !base.startsWith(root + sep))
    return {
      errorType: 'Runtime.MalformedHandlerName',
      errorMessage: `Bad handler ${handler}: outside the code folder`,
    };
  for (const ext of MODULE_EXTENSIONS) {
    const path = base + ext;
    if (existsSync(path)) {
      const ts = ext.endsWith('ts');
      if (ts && tsxUrl === undefined)
        return {
          errorType: 'Runtime.ImportModuleError',
          errorMessage: `${path} is TypeScript and tsx is not available`,
        };
      return { moduleUrl: pathToFileURL(path).href, exportName, tsxUrl: ts ? tsxUrl : undefined };
    }
  }
  return {
    errorType: 'Runtime.ImportModuleError',
    errorMessage: `Error: Cannot find module '${file}' (looked for ${MODULE_EXTENSIONS.map((e) => file + e).join(', ')} in ${root})`,
  };
}

function findTsx(): string | undefined {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return undefined;
  }
}

interface RoleCredentials {
  value: CredentialEnv;
  expiresAtMs: number;
}

class Runner implements FunctionRunner {
  private readonly pools = new Map<string, FunctionPool>();
  private readonly defs = new Map<string, FunctionDefinition>();
  private readonly logs = new Map<string, WriteStream>();
  private readonly roleCache = new Map<string, Promise<RoleCredentials>>();
  private readonly external = new Map<string, string>();
  private readonly tsxUrl = findTsx();
  private readonly logDir: string;
  private credentialVersion = 0;

  constructor(private readonly options: FunctionRunnerOptions) {
    this.logDir = join(resolve(options.dataDir), 'functions', 'logs');
    for (const [k, v] of Object.entries(options.externalEndpoints ?? {})) this.external.set(k, v);
  }

  async start(): Promise<void> {
    mkdirSync(this.logDir, { recursive: true });
  }

  async stop(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.stop()));
    for (const s of this.logs.values()) s.end();
    this.logs.clear();
  }

  logFile(name: string): string {
    return join(this.logDir, `${name}.log`);
  }

  workerCount(nameOrArn: string): number {
    const key = this.keyOf(nameOrArn);
    return key === undefined ? 0 : (this.pools.get(key)?.size ?? 0);
  }

  /** Pools and definitions are keyed by unqualified ARN; a bare name finds the first match. */
  private keyOf(nameOrArn: string): string | undefined {
    const arn = unqualifiedFunctionArn(nameOrArn);
    if (arn !== undefined) return arn;
    const name = functionNameOf(nameOrArn);
    for (const def of this.defs.values()) if (def.functionName === name) return def.functionArn;
    return undefined;
  }

  register(def: FunctionDefinition): void {
    this.defs.set(def.functionArn, def);
  }

  async deploy(def: FunctionDefinition): Promise<DeployResult> {
    const resolved = resolveHandler(def.codeDir, def.handler, this.tsxUrl);
    if (!('moduleUrl' in resolved)) return { ok: false, ...resolved };
    const plan = await buildTypeScriptHandler(def.codeDir, resolved);
    const pool = this.createPool(def, plan);
    const failure = await pool.load();
    if (failure !== undefined) {
      await pool.stop();
      return { ok: false, ...failure };
    }
    const old = this.pools.get(def.functionArn);
    this.pools.set(def.functionArn, pool);
    this.defs.set(def.functionArn, def);
    if (old !== undefined) void old.stop();
    return { ok: true };
  }

  async remove(nameOrArn: string): Promise<void> {
    const key = this.keyOf(nameOrArn);
    if (key === undefined) return;
    this.defs.delete(key);
    const pool = this.pools.get(key);
    this.pools.delete(key);
    await pool?.stop();
  }

  invoke(
    nameOrArn: string,
    payload: string,
    options: FunctionInvokeOptions = {},
  ): Promise<FunctionInvokeResult> {
    const name = functionNameOf(nameOrArn);
    const url = this.external.get(nameOrArn) ?? this.external.get(name);
    const requestId = options.requestId ?? randomUUID();
    if (url !== undefined)
      return invokeExternal(url, name, payload, {
        region: this.options.region,
        credentials: this.options.externalCredentials ?? {
          accessKeyId: 'AKIDTRELLISEXTERNAL',
          secretAccessKey: 'trellis-external-endpoint',
        },
        timeoutMs: options.timeoutMs ?? 900_000,
      });
    const key = this.keyOf(nameOrArn);
    let pool = key === undefined ? undefined : this.pools.get(key);
    if (pool === undefined) {
      const def = key === undefined ? undefined : this.defs.get(key);
      if (def === undefined)
        return Promise.resolve({
          status: 'not-found',
          message: `Function not found: ${nameOrArn}`,
        });
      const plan = resolveHandler(def.codeDir, def.handler, this.tsxUrl);
      if (!('moduleUrl' in plan))
        return Promise.resolve({
          status: 'function-error',
          errorType: plan.errorType,
          payload: JSON.stringify({ ...plan, trace: [] }),
        });
      if (plan.tsxUrl !== undefined)
        return buildTypeScriptHandler(def.codeDir, plan).then((built) => {
          // Another invocation may have created the pool while this one built.
          let ready = this.pools.get(def.functionArn);
          if (ready === undefined) {
            ready = this.createPool(def, built);
            this.pools.set(def.functionArn, ready);
          }
          return ready.invoke(payload, requestId, options.timeoutMs);
        });
      pool = this.createPool(def, plan);
      this.pools.set(def.functionArn, pool);
    }
    return pool.invoke(payload, requestId, options.timeoutMs);
  }

  private log(name: string): WriteStream {
    let s = this.logs.get(name);
    if (s === undefined) {
      mkdirSync(this.logDir, { recursive: true });
      s = createWriteStream(this.logFile(name), { flags: 'a' });
      s.on('error', (err) =>
        this.options.logger?.warn('function log not writable', {
          function: name,
          error: err.message,
        }),
      );
      this.logs.set(name, s);
    }
    return s;
  }

  private createPool(def: FunctionDefinition, plan: LoadPlan): FunctionPool {
    const region = this.options.region;
    const env: Record<string, string> = {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_LAMBDA_FUNCTION_NAME: def.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(def.memorySizeMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${def.functionName}`,
      AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
      LAMBDA_TASK_ROOT: def.codeDir,
      _HANDLER: def.handler,
      TZ: ':UTC',
    };
    const endpoint = this.options.endpointUrl?.();
    if (endpoint !== undefined) env.AWS_ENDPOINT_URL = endpoint;
    if (process.env.PATH !== undefined) env.PATH = process.env.PATH;
    Object.assign(env, def.environment);
    const role = def.role;
    const source = this.options.credentials;
    return new FunctionPool(def, {
      plan,
      env,
      log: this.log(def.functionName),
      concurrency:
        def.concurrency ?? this.options.defaultConcurrency ?? Math.min(4, availableParallelism()),
      maxQueue: this.options.maxQueue ?? 1000,
      ...(role !== undefined && role !== '' && source !== undefined
        ? { credentials: () => this.roleCredentials(role, def.functionName, source) }
        : {}),
      onColdStart: (ms) =>
        this.options.logger?.info('function cold start', {
          function: def.functionName,
          initDurationMs: Math.round(ms * 100) / 100,
        }),
    });
  }

  /** Cached per role; refreshed `credentialRefreshMarginMs` before expiry. */
  private async roleCredentials(
    roleArn: string,
    functionName: string,
    source: ExecutionCredentialSource,
  ): Promise<CredentialEnv> {
    const key = `${roleArn}|${functionName}`;
    const margin = this.options.credentialRefreshMarginMs ?? 5 * 60_000;
    const cached = this.roleCache.get(key);
    if (cached !== undefined) {
      const c = await cached.catch(() => undefined);
      if (c !== undefined && c.expiresAtMs - margin > Date.now()) return c.value;
      if (this.roleCache.get(key) !== cached) return (await this.roleCache.get(key)!).value;
    }
    const fresh = source(roleArn, functionName).then((c) => ({
      expiresAtMs: Date.parse(c.expiration),
      value: {
        version: ++this.credentialVersion,
        env: {
          AWS_ACCESS_KEY_ID: c.accessKeyId,
          AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
          AWS_SESSION_TOKEN: c.sessionToken,
          AWS_CREDENTIAL_EXPIRATION: c.expiration,
        },
      },
    }));
    this.roleCache.set(key, fresh);
    fresh.catch(() => {
      if (this.roleCache.get(key) === fresh) this.roleCache.delete(key);
    });
    return (await fresh).value;
  }
}

/** Creates the local function runner. */
export function createFunctionRunner(options: FunctionRunnerOptions): FunctionRunner {
  return new Runner(options);
}
