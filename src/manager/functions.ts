/**
 * The Lambda API's business rules for local functions (issue 6): CreateFunction from a zip or a
 * local folder, GetFunction, ListFunctions, DeleteFunction, Invoke; and the execution role's
 * temporary credentials. Functions are stored as kind `function`; the code runs in a
 * `FunctionRuntime` (the function runner, wired by `bin/`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { LambdaError } from '../errors/lambda-errors.js';
import {
  functionNameOf,
  unqualifiedFunctionArn,
  type FunctionDefinition,
  type FunctionInvokeOptions,
  type FunctionInvokeResult,
  type StoredFunction,
} from '../model/function-types.js';
import type { AccessKey, IamRole } from '../model/iam-types.js';
import { newAccessKeyId, newSecretAccessKey } from './accounts.js';
import { assumedRoleArn } from './identity-policies.js';
import type {
  ControlPlaneStore,
  ManagerContext,
  OperationScope,
  WriteScope,
} from './manager-context.js';

/** What the manager needs from the function runner. */
export interface FunctionRuntime {
  deploy(
    def: FunctionDefinition,
  ): Promise<{ ok: true } | { ok: false; errorType: string; errorMessage: string }>;
  register(def: FunctionDefinition): void;
  remove(nameOrArn: string): Promise<void>;
  invoke(
    nameOrArn: string,
    payload: string,
    options?: FunctionInvokeOptions,
  ): Promise<FunctionInvokeResult>;
}

/** Unpacks a zip into a folder (the runner's zip reader, passed in by `bin/`). */
export type ZipExtractor = (zip: Buffer, dir: string) => number;

/** The function side of the API: the runtime and where uploaded code is unpacked. */
export interface FunctionsConfig {
  runtime: FunctionRuntime;
  /** Uploaded zips are unpacked under `<codeRoot>/<name>/<sha>`. */
  codeRoot: string;
  extractZip: ZipExtractor;
  /** Function name or ARN → external Invoke-API endpoint (Trellis setting). */
  externalEndpoints?: Readonly<Record<string, string>>;
}

/** `Code.S3Bucket` value that marks a local folder in `Code.S3Key` (Trellis extension). */
export const LOCAL_CODE_BUCKET = 'trellis-local';

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const HANDLER = /^[^\s]{1,128}$/;

function functionArn(ctx: ManagerContext, accountId: string, name: string): string {
  return `arn:${ctx.partition}:lambda:${ctx.region}:${accountId}:function:${name}`;
}

function storeId(accountId: string, name: string): string {
  return `function:${accountId}:${name}`;
}

function invalid(message: string): LambdaError {
  return new LambdaError('InvalidParameterValueException', message);
}

function notFound(name: string, ctx: ManagerContext, accountId: string): LambdaError {
  return new LambdaError(
    'ResourceNotFoundException',
    `Function not found: ${functionArn(ctx, accountId, name)}`,
  );
}

/** The runner's definition of a stored function. */
export function definitionOf(f: StoredFunction): FunctionDefinition | undefined {
  if (f.trellis.kind === 'external') return undefined;
  return {
    functionName: f.FunctionName,
    functionArn: f.FunctionArn,
    handler: f.Handler,
    codeDir: f.trellis.codeDir,
    ...(f.Role !== '' ? { role: f.Role } : {}),
    timeoutSeconds: f.Timeout,
    memorySizeMb: f.MemorySize,
    environment: f.Environment?.Variables ?? {},
  };
}

/** The Lambda `FunctionConfiguration` of a stored function (Trellis's own fields left out). */
export function functionConfiguration(f: StoredFunction): Record<string, unknown> {
  const { trellis: _local, ...config } = f;
  return config;
}

function intIn(value: unknown, name: string, min: number, max: number, def: number): number {
  if (value === undefined || value === null) return def;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalid(`${name} must be an integer from ${min} to ${max}.`);
  return value;
}

function environmentOf(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  const vars = (value as { Variables?: unknown }).Variables;
  if (vars === undefined) return {};
  if (typeof vars !== 'object' || vars === null || Array.isArray(vars))
    throw invalid('Environment.Variables must be a map of strings.');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (!/^[a-zA-Z]\w*$/.test(k)) throw invalid(`Environment variable name ${k} is not valid.`);
    if (typeof v !== 'string') throw invalid(`Environment variable ${k} must be a string.`);
    out[k] = v;
  }
  return out;
}

/** CreateFunction: a zip (`Code.ZipFile`) or a local folder (`Code.S3Bucket: trellis-local`). */
export async function createFunction(
  scope: WriteScope,
  cfg: FunctionsConfig,
  body: Record<string, unknown>,
): Promise<StoredFunction> {
  const name = body.FunctionName;
  if (typeof name !== 'string' || !NAME.test(name))
    throw invalid('FunctionName must be 1-64 letters, digits, hyphens or underscores.');
  const handler = body.Handler;
  if (typeof handler !== 'string' || !HANDLER.test(handler))
    throw invalid('Handler is required, as file.export (e.g. index.handler).');
  const accountId = scope.caller.accountId;
  if (await scope.tx.get('function', storeId(accountId, name)))
    throw new LambdaError('ResourceConflictException', `Function already exist: ${name}`);
  const role = body.Role === undefined || body.Role === null ? '' : body.Role;
  if (typeof role !== 'string') throw invalid('Role must be a role ARN.');
  if (role !== '') {
    const stored = await scope.tx.getByArn<IamRole>(role);
    if (!stored || stored.kind !== 'iam-role')
      throw invalid('The role defined for the function cannot be assumed by Lambda.');
  }
  const timeout = intIn(body.Timeout, 'Timeout', 1, 900, 3);
  const memory = intIn(body.MemorySize, 'MemorySize', 128, 10240, 128);
  const environment = environmentOf(body.Environment);
  const runtime = typeof body.Runtime === 'string' ? body.Runtime : 'nodejs20.x';
  if (!runtime.startsWith('nodejs'))
    throw invalid(`Runtime ${runtime} is not supported by Trellis; use a nodejs runtime.`);

  const code = (body.Code ?? {}) as Record<string, unknown>;
  let codeDir: string;
  let codeSize = 0;
  let codeSha: string;
  let unpacked: string | undefined;
  let kind: 'zip' | 'directory';
  if (typeof code.ZipFile === 'string') {
    const zip = Buffer.from(code.ZipFile, 'base64');
    codeSha = createHash('sha256').update(zip).digest('base64');
    codeSize = zip.length;
    codeDir = join(
      cfg.codeRoot,
      name,
      `${createHash('sha256').update(zip).digest('hex').slice(0, 16)}-${randomBytes(4).toString('hex')}`,
    );
    mkdirSync(codeDir, { recursive: true });
    unpacked = codeDir;
    try {
      cfg.extractZip(zip, codeDir);
    } catch (err) {
      rmSync(codeDir, { recursive: true, force: true });
      throw invalid(`Could not unzip uploaded file: ${(err as Error).message}`);
    }
    kind = 'zip';
  } else if (code.S3Bucket === LOCAL_CODE_BUCKET && typeof code.S3Key === 'string') {
    if (!isAbsolute(code.S3Key)) throw invalid('Code.S3Key must be an absolute folder path.');
    codeDir = resolve(code.S3Key);
    if (!existsSync(codeDir) || !statSync(codeDir).isDirectory())
      throw invalid(`Code.S3Key ${codeDir} is not a folder on the Trellis host.`);
    codeSha = createHash('sha256').update(codeDir).digest('base64');
    kind = 'directory';
  } else {
    throw invalid(
      `Code must have ZipFile, or S3Bucket "${LOCAL_CODE_BUCKET}" with S3Key set to an absolute folder (Trellis runs functions locally).`,
    );
  }

  const arn = functionArn(scope.ctx, accountId, name);
  const fn: StoredFunction = {
    FunctionName: name,
    FunctionArn: arn,
    Runtime: runtime,
    Role: role,
    Handler: handler,
    CodeSize: codeSize,
    CodeSha256: codeSha,
    Description: typeof body.Description === 'string' ? body.Description : '',
    Timeout: timeout,
    MemorySize: memory,
    LastModified: scope.ctx.now().replace('Z', '+0000'),
    Version: '$LATEST',
    PackageType: 'Zip',
    State: 'Active',
    ...(environment !== undefined ? { Environment: { Variables: environment } } : {}),
    trellis: { kind, codeDir },
  };
  // spec (issue 6): a module that fails to load is reported at create time with the loader's error.
  const loaded = await cfg.runtime.deploy(definitionOf(fn)!);
  if (!loaded.ok) {
    if (unpacked !== undefined) rmSync(unpacked, { recursive: true, force: true });
    throw invalid(`The function's code does not load: ${loaded.errorType}: ${loaded.errorMessage}`);
  }
  try {
    await scope.tx.insert({
      kind: 'function',
      id: storeId(accountId, name),
      accountId,
      arn,
      name,
      data: fn,
    });
  } catch (err) {
    await cfg.runtime.remove(arn);
    throw err;
  }
  return fn;
}

async function findFunction(scope: OperationScope, nameOrArn: string): Promise<StoredFunction> {
  const arn = unqualifiedFunctionArn(nameOrArn);
  const name = functionNameOf(nameOrArn);
  let accountId = scope.caller.accountId;
  if (arn !== undefined) accountId = arn.split(':')[4]!;
  const stored = await scope.reader.get<StoredFunction>('function', storeId(accountId, name));
  if (!stored || stored.accountId !== scope.caller.accountId)
    throw notFound(name, scope.ctx, scope.caller.accountId);
  return stored.data;
}

/** GetFunction: the configuration and a `Code` location (the local folder). */
export async function getFunction(
  scope: OperationScope,
  nameOrArn: string,
): Promise<Record<string, unknown>> {
  const f = await findFunction(scope, nameOrArn);
  const location = f.trellis.kind === 'external' ? f.trellis.endpointUrl : f.trellis.codeDir;
  return {
    Configuration: functionConfiguration(f),
    Code: { RepositoryType: 'Trellis', Location: location },
    Tags: {},
  };
}

/** ListFunctions, paged by `Marker` (the last function's store id) and `MaxItems`. */
export async function listFunctions(
  scope: OperationScope,
  marker: string | null,
  maxItems: string | null,
): Promise<Record<string, unknown>> {
  const limit = maxItems === null ? 50 : Number(maxItems);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10000)
    throw invalid('MaxItems must be an integer from 1 to 10000.');
  const page = await scope.reader.list<StoredFunction>({
    kind: 'function',
    accountId: scope.caller.accountId,
    limit,
    ...(marker !== null && marker !== '' ? { afterId: marker } : {}),
  });
  return {
    Functions: page.items.map((i) => functionConfiguration(i.data)),
    ...(page.lastId !== undefined ? { NextMarker: page.lastId } : {}),
  };
}

/** DeleteFunction: stops its workers; uploaded code is removed, a local folder is left alone. */
export async function deleteFunction(
  scope: WriteScope,
  cfg: FunctionsConfig,
  nameOrArn: string,
): Promise<void> {
  const f = await findFunction(scope, nameOrArn);
  await scope.tx.delete('function', storeId(scope.caller.accountId, f.FunctionName));
  await cfg.runtime.remove(f.FunctionArn);
  if (f.trellis.kind === 'zip') rmSync(f.trellis.codeDir, { recursive: true, force: true });
}

/**
 * Invoke (RequestResponse): a local function of the caller's account, or a function mapped to an
 * external endpoint by the Trellis setting. Not-found is an error; a function error is a result.
 */
export async function invokeFunction(
  scope: OperationScope,
  cfg: FunctionsConfig,
  nameOrArn: string,
  payload: string,
  options: FunctionInvokeOptions = {},
): Promise<FunctionInvokeResult> {
  const external = cfg.externalEndpoints;
  const name = functionNameOf(nameOrArn);
  if (external !== undefined && (external[nameOrArn] !== undefined || external[name] !== undefined))
    return cfg.runtime.invoke(nameOrArn, payload, options);
  const f = await findFunction(scope, nameOrArn);
  return cfg.runtime.invoke(f.FunctionArn, payload, options);
}

/** Registers every stored local function with the runtime (start-up; loaded on first call). */
export async function registerStoredFunctions(
  store: Pick<ControlPlaneStore, 'reader'>,
  runtime: FunctionRuntime,
): Promise<number> {
  let afterId: string | undefined;
  let n = 0;
  for (;;) {
    const page = await store.reader.list<StoredFunction>({
      kind: 'function',
      limit: 500,
      ...(afterId !== undefined ? { afterId } : {}),
    });
    for (const item of page.items) {
      const def = definitionOf(item.data);
      if (def !== undefined) {
        runtime.register(def);
        n++;
      }
    }
    if (page.lastId === undefined) return n;
    afterId = page.lastId;
  }
}

/**
 * Temporary credentials for a function's execution role, as STS AssumeRole issues them (session
 * `ASIA…` key, token, one-hour expiry): the role's trust policy is the function owner's business,
 * as Lambda itself assumes the role (principal `lambda.amazonaws.com`).
 */
export async function issueExecutionCredentials(
  store: Pick<ControlPlaneStore, 'transact'>,
  ctx: ManagerContext,
  roleArn: string,
  sessionName: string,
  durationSeconds = 3600,
): Promise<{
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
}> {
  return store.transact(async (tx) => {
    const stored = await tx.getByArn<IamRole>(roleArn);
    if (!stored || stored.kind !== 'iam-role') throw new Error(`role ${roleArn} does not exist`);
    const role = stored.data;
    const now = ctx.now();
    const nowMs = Date.parse(now);
    const key: AccessKey = {
      accessKeyId: newAccessKeyId('ASIA'),
      secretAccessKey: newSecretAccessKey(),
      status: 'Active',
      accountId: role.accountId,
      principalArn: assumedRoleArn(ctx.partition, role.accountId, role.roleName, sessionName),
      sessionToken: randomBytes(192).toString('base64'),
      expiration: new Date(nowMs + durationSeconds * 1000).toISOString(),
      roleArn: role.arn,
      sessionName,
      createdAt: now,
    };
    // Expired sessions of this role are pruned as AssumeRole prunes them.
    const sessions = await tx.list<AccessKey>({ kind: 'access-key', parentId: role.roleId });
    for (const s of sessions.items)
      if (s.data.expiration !== undefined && Date.parse(s.data.expiration) <= nowMs)
        await tx.delete('access-key', s.id);
    await tx.insert({
      kind: 'access-key',
      id: key.accessKeyId,
      accountId: key.accountId,
      parentId: role.roleId,
      data: key,
    });
    return {
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      sessionToken: key.sessionToken!,
      expiration: key.expiration!,
    };
  });
}
