/**
 * `trellis function …` (issue 6): create, list, get, delete and invoke local functions through
 * the Lambda API Trellis serves on its endpoint, with the official `@aws-sdk/client-lambda`.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  paginateListFunctions,
  type FunctionCode,
  type FunctionConfiguration,
  type InvocationType,
} from '@aws-sdk/client-lambda';
import { InvalidArgumentError, Option } from 'commander';
import {
  addMaxItems,
  clientAction,
  createGroup,
  printDone,
  withExamples,
  type CommandContext,
} from './cli-command.js';
import { intInRange } from './flag-parsers.js';
import { CliFailure, type Column } from './output.js';

/** `Code.S3Bucket` that names a folder on the Trellis host (the API's local-folder form). */
const LOCAL_CODE_BUCKET = 'trellis-local';

/**
 * The API edge reads at most 1 MB of request body and a zip travels Base64-encoded (4/3 of its
 * size) inside the JSON: larger zips are refused here with a pointer to `--dir`.
 */
const MAX_ZIP_BYTES = 700 * 1024;

const FUNCTION_COLUMNS: Column<FunctionConfiguration>[] = [
  { header: 'NAME', value: (f) => f.FunctionName },
  { header: 'RUNTIME', value: (f) => f.Runtime },
  { header: 'HANDLER', value: (f) => f.Handler },
  { header: 'TIMEOUT', value: (f) => f.Timeout },
  { header: 'MEMORY', value: (f) => f.MemorySize },
  { header: 'ROLE', value: (f) => f.Role },
  { header: 'LAST MODIFIED', value: (f) => f.LastModified },
];

/** `KEY=value` → one environment variable (repeatable; a value may hold `=` and commas). */
export function parseEnvVar(
  text: string,
  previous: Record<string, string> = {},
): Record<string, string> {
  const eq = text.indexOf('=');
  const key = eq < 0 ? '' : text.slice(0, eq);
  if (!/^[a-zA-Z]\w*$/.test(key))
    throw new InvalidArgumentError(
      `expected KEY=value with KEY a letter then letters, digits or _, got "${text}".`,
    );
  return { ...previous, [key]: text.slice(eq + 1) };
}

/** `--payload`: JSON given inline, or `@path` / `file://path` to read it from a file. */
export function parsePayload(text: string): string {
  let source = text;
  const file = text.startsWith('file://')
    ? text.slice(7)
    : text.startsWith('@')
      ? text.slice(1)
      : undefined;
  if (file !== undefined) {
    try {
      source = readFileSync(file, 'utf8');
    } catch (err) {
      throw new InvalidArgumentError(`cannot read ${file}: ${(err as Error).message}`);
    }
  }
  try {
    JSON.parse(source);
  } catch (err) {
    throw new InvalidArgumentError(`not valid JSON (${(err as Error).message}).`);
  }
  return source;
}

/** Lambda limits (docs/functions.md): Timeout 1–900 s, MemorySize 128–10240 MB. */
const parseTimeout = intInRange(1, 900);
const parseMemory = intInRange(128, 10240);

function lambdaClient(ctx: CommandContext<unknown>): LambdaClient {
  const c = ctx.config;
  return new LambdaClient({ endpoint: c.endpoint, region: c.region, credentials: c.credentials });
}

/** Runs `fn` with a Lambda client that is destroyed afterwards (no sockets left open). */
async function withLambda<R>(
  ctx: CommandContext<unknown>,
  fn: (client: LambdaClient) => Promise<R>,
): Promise<R> {
  const client = lambdaClient(ctx);
  try {
    return await fn(client);
  } catch (err) {
    throw lambdaFailure(err) ?? err;
  } finally {
    client.destroy();
  }
}

/**
 * Hints for the Lambda exceptions the shared error text does not know (the command name is
 * prefixed by `describeFailure`); undefined → the shared handling.
 */
function lambdaFailure(err: unknown): CliFailure | undefined {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const wrong = [`${e.name ?? 'Error'}: ${e.message ?? String(err)}`];
  switch (e.name) {
    case 'InvalidParameterValueException':
      return new CliFailure(
        wrong,
        /^Runtime\.|Error/.test(e.message ?? '')
          ? 'The handler module did not load: fix the file named by --handler (file.export) in --dir/--zip and create again.'
          : 'Fix the value named above; see `trellis function create --help`.',
      );
    case 'ResourceConflictException':
      return new CliFailure(
        wrong,
        'A function with that name exists: choose another --name, or `trellis function delete <name>` first.',
      );
    case 'ResourceNotFoundException':
      return new CliFailure(wrong, 'Check the function name or ARN (`trellis function list`).');
    case 'TooManyRequestsException':
      return new CliFailure(
        wrong,
        'The function is busy (all workers in use and the queue full): retry, or raise TRELLIS_FUNCTION_CONCURRENCY on `trellis up`.',
      );
    case 'RequestTooLargeException':
      return new CliFailure(wrong, 'Send a payload under 6 MB.');
  }
  if (e.$metadata?.httpStatusCode === 413)
    return new CliFailure(
      wrong,
      'The request is over the API limit (1 MB): use --dir <folder> instead of --zip.',
    );
  return undefined;
}

/** Payload text for printing: JSON pretty-printed, anything else as is. */
function payloadText(bytes: Uint8Array | undefined): { text: string; json?: unknown } {
  const text = Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
  if (text === '') return { text };
  try {
    const json: unknown = JSON.parse(text);
    return { text: JSON.stringify(json, null, 2), json };
  } catch {
    return { text };
  }
}

/** A zip file's bytes, refused when unreadable or over what the API edge takes. */
function readZip(ctx: CommandContext<unknown>, file: string): Buffer {
  let zip: Buffer;
  try {
    zip = readFileSync(file);
  } catch (err) {
    ctx.usage(
      `cannot read --zip ${file}: ${(err as Error).message}`,
      'Give the path of a zip file.',
    );
  }
  if (zip.length > MAX_ZIP_BYTES)
    ctx.usage(
      `--zip ${file} is ${Math.ceil(zip.length / 1024)} KB, over the ${MAX_ZIP_BYTES / 1024} KB the API takes.`,
      'Unpack it and use --dir <folder>.',
    );
  return zip;
}

interface CreateFlags {
  name: string;
  handler: string;
  dir?: string;
  zip?: string;
  role?: string;
  runtime: string;
  timeout?: number;
  memory?: number;
  env?: Record<string, string>;
  description?: string;
}

interface InvokeFlags {
  payload?: string;
  invocationType: InvocationType;
}

/** `trellis function …`: create, list, get, delete, invoke. */
export function functionCommands(): ReturnType<typeof createGroup> {
  const group = createGroup(
    'function',
    'Local functions: Lambda-style handlers Trellis runs itself, invoked directly or as LAMBDA targets.',
  );

  const create = withExamples(
    group
      .command('create')
      .description(
        'Create a function from a folder on this host (--dir) or a zip (--zip). The handler module is loaded at once; a load error is reported here.',
      )
      .requiredOption('--name <name>', 'function name, 1–64 of a-z A-Z 0-9 - _')
      .requiredOption(
        '--handler <file.export>',
        'module file (no extension) and export, e.g. index.handler',
      )
      .option(
        '--dir <folder>',
        'folder holding the code, on the host running trellis up (used in place, not copied)',
      )
      .option('--zip <file>', 'zip of the code (up to 700 KB; use --dir for more)')
      .option('--role <arn>', 'execution role: the handler gets its credentials in AWS_* variables')
      .option('--runtime <runtime>', 'a nodejs runtime', 'nodejs20.x')
      .option('--timeout <seconds>', 'timeout, 1–900 (default 3)', parseTimeout)
      .option('--memory <mb>', 'memory size, 128–10240 (default 128)', parseMemory)
      .option('--env <KEY=value>', 'an environment variable (repeatable)', parseEnvVar)
      .option('--description <text>', 'description'),
    'trellis function create --name order --handler index.handler --dir ./order --env STAGE=dev',
    'trellis function create --name order --handler index.handler --zip order.zip --role arn:aws:iam::111122223333:role/Order --timeout 10',
  );
  clientAction<CreateFlags>(create, async (ctx) => {
    const o = ctx.opts;
    if ((o.dir === undefined) === (o.zip === undefined))
      ctx.usage(
        'give exactly one of --dir and --zip.',
        'Point --dir at the code folder, or --zip at a zip of it.',
      );
    let code: FunctionCode;
    if (o.dir !== undefined) {
      const dir = resolve(o.dir);
      let isDir = false;
      try {
        isDir = statSync(dir).isDirectory();
      } catch {
        /* reported below */
      }
      if (!isDir)
        ctx.usage(`--dir ${dir} is not a folder.`, 'Give the folder holding the handler module.');
      code = { S3Bucket: LOCAL_CODE_BUCKET, S3Key: dir };
    } else {
      code = { ZipFile: readZip(ctx, o.zip!) };
    }
    const out = await withLambda(ctx, (lambda) =>
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: o.name,
          Handler: o.handler,
          Runtime: o.runtime as FunctionConfiguration['Runtime'],
          // Role is optional in Trellis (docs/functions.md), required by the SDK's types.
          Role: o.role as string,
          Code: code,
          Timeout: o.timeout,
          MemorySize: o.memory,
          Description: o.description,
          Environment: o.env ? { Variables: o.env } : undefined,
        }),
      ),
    );
    ctx.printResource(out);
  });

  const list = withExamples(
    addMaxItems(group.command('list').description('List functions (all pages).')),
    'trellis function list --output json',
  );
  clientAction<{ maxItems?: number }>(list, async (ctx) => {
    const items = await withLambda(ctx, async (lambda) => {
      const all: FunctionConfiguration[] = [];
      for await (const page of paginateListFunctions({ client: lambda }, {})) {
        all.push(...(page.Functions ?? []));
        if (ctx.opts.maxItems !== undefined && all.length >= ctx.opts.maxItems)
          return all.slice(0, ctx.opts.maxItems);
      }
      return all;
    });
    ctx.printList(items, FUNCTION_COLUMNS);
  });

  const get = withExamples(
    group
      .command('get')
      .description("Show one function's configuration (JSON: with its code location).")
      .argument('<function>', 'function name or ARN'),
    'trellis function get order',
  );
  clientAction(get, async (ctx, [name]) => {
    const out = await withLambda(ctx, (lambda) =>
      lambda.send(new GetFunctionCommand({ FunctionName: name })),
    );
    ctx.printResource(ctx.output === 'json' ? out : out.Configuration);
  });

  const del = withExamples(
    group
      .command('delete')
      .description('Delete a function; its workers stop. A folder given with --dir is left alone.')
      .argument('<function>', 'function name or ARN'),
    'trellis function delete order',
  );
  clientAction(del, async (ctx, [name]) => {
    await withLambda(ctx, (lambda) =>
      lambda.send(new DeleteFunctionCommand({ FunctionName: name })),
    );
    printDone(ctx, `Deleted function ${name}.`, { FunctionName: name });
  });

  const invoke = withExamples(
    group
      .command('invoke')
      .description(
        'Invoke a function and print its result. A function error (X-Amz-Function-Error) prints the error payload and exits 1.',
      )
      .argument('<function>', 'function name or ARN')
      .option(
        '--payload <json|@file>',
        'the event: JSON inline, or @path to read it from a file',
        parsePayload,
      )
      .addOption(
        new Option(
          '--invocation-type <type>',
          'RequestResponse waits for the result; Event queues it; DryRun only checks',
        )
          .choices(['RequestResponse', 'Event', 'DryRun'])
          .default('RequestResponse'),
      ),
    `trellis function invoke order --payload '{"item":"book"}'`,
    'trellis function invoke order --payload @event.json --output json',
  );
  clientAction<InvokeFlags>(invoke, async (ctx, [name]) => {
    const o = ctx.opts;
    const out = await withLambda(ctx, (lambda) =>
      lambda.send(
        new InvokeCommand({
          FunctionName: name,
          InvocationType: o.invocationType,
          Payload: o.payload === undefined ? undefined : Buffer.from(o.payload),
        }),
      ),
    );
    const payload = payloadText(out.Payload);
    if (ctx.output === 'json') {
      ctx.printResource({
        StatusCode: out.StatusCode,
        FunctionError: out.FunctionError,
        ExecutedVersion: out.ExecutedVersion,
        Payload: payload.json ?? (payload.text === '' ? undefined : payload.text),
      });
    } else if (o.invocationType === 'Event') {
      ctx.io.out(`Queued an invocation of ${name} (status ${out.StatusCode}).\n`);
    } else if (o.invocationType === 'DryRun') {
      ctx.io.out(`${name} can be invoked (status ${out.StatusCode}).\n`);
    } else if (payload.text !== '') {
      ctx.io.out(`${payload.text}\n`);
    }
    if (out.FunctionError !== undefined) {
      const err = (payload.json ?? {}) as { errorType?: unknown; errorMessage?: unknown };
      const detail =
        typeof err.errorType === 'string'
          ? `${err.errorType}: ${String(err.errorMessage ?? '')}`
          : payload.text;
      throw new CliFailure(
        [`function error (${out.FunctionError}): ${detail}`],
        `Look at the function's log, <data-dir>/functions/logs/${name!.split(':').pop()}.log, and fix the handler.`,
      );
    }
  });

  return group;
}
