import Table from 'cli-table3';
import { DEFAULT_QUOTAS, type QuotaKey } from '../model/quotas.js';

/** How a client command prints its result: a table (humans) or JSON (scripts). */
export type OutputFormat = 'table' | 'json';

/** Where a command writes: results to `out` (stdout), progress and notes to `err` (stderr). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** The process's stdout/stderr. */
export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** Exit status of a failed API call (1) or of a command used wrongly (2). */
export const API_ERROR_EXIT = 1;
export const USAGE_ERROR_EXIT = 2;

/**
 * A failure the user can act on: what was wrong (one or more lines) and what to do.
 * Its `message` is the full text printed on stderr.
 */
export class CliFailure extends Error {
  constructor(
    readonly wrong: readonly string[],
    readonly todo: string,
    readonly exitCode: number = API_ERROR_EXIT,
  ) {
    super([...wrong, `What to do: ${todo}`].join('\n'));
    this.name = 'CliFailure';
  }
}

/** One column of a list table: a header and how to read the cell from an item. */
export interface Column<T> {
  header: string;
  value: (item: T) => unknown;
}

/** Text of one table cell or key/value value: dates as ISO, objects as compact JSON. */
export function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Drops the SDK's `$metadata` and undefined members so JSON output is the wire shape. */
export function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '$metadata' || v === undefined) continue;
      out[k] = plain(v);
    }
    return out;
  }
  return value;
}

/** Renders a list as a table (columns) or a JSON array (all members of each item). */
export function renderList<T>(
  items: readonly T[],
  columns: readonly Column<T>[],
  format: OutputFormat,
): string {
  if (format === 'json') return `${JSON.stringify(plain(items), null, 2)}\n`;
  const table = new Table({
    head: columns.map((c) => c.header),
    style: { head: [], border: [], compact: true },
  });
  for (const item of items) table.push(columns.map((c) => cellText(c.value(item))));
  return `${table.toString()}\n`;
}

/** Renders one resource as aligned `key  value` lines (table) or a JSON object. */
export function renderResource(resource: unknown, format: OutputFormat): string {
  const value = plain(resource);
  if (format === 'json') return `${JSON.stringify(value ?? {}, null, 2)}\n`;
  if (!value || typeof value !== 'object') return `${cellText(value)}\n`;
  const entries = Object.entries(value as Record<string, unknown>);
  if (!entries.length) return '';
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${cellText(v)}\n`).join('');
}

/** A progress line of a multi-step command (stderr, so stdout stays parseable). */
export function progress(io: CliIo, text: string): void {
  io.err(`… ${text}\n`);
}

/** Context an error hint can use: the command that failed and where it was sent. */
export interface ErrorContext {
  /** e.g. `trellis service-network delete`. */
  command: string;
  endpoint?: string;
  dataDir?: string;
}

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  errors?: unknown[];
  cause?: unknown;
  fieldList?: { name?: string; message?: string }[];
  resourceId?: string;
  resourceType?: string;
  quotaCode?: string;
  reason?: string;
  $metadata?: { httpStatusCode?: number };
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The network error code of a failed connection, looking through wrappers and aggregates. */
function connectionCode(err: ErrorLike, depth = 0): string | undefined {
  if (depth > 4 || !err || typeof err !== 'object') return undefined;
  if (err.code && CONNECTION_CODES.has(err.code)) return err.code;
  for (const inner of err.errors ?? []) {
    const c = connectionCode(inner as ErrorLike, depth + 1);
    if (c) return c;
  }
  return err.cause ? connectionCode(err.cause as ErrorLike, depth + 1) : undefined;
}

/** Exceptions an AWS endpoint answers for a request it cannot authenticate. */
const AUTHENTICATION_ERRORS = new Set([
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'InvalidSignatureException',
  'UnrecognizedClientException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
]);

function quotaHint(quotaCode: string | undefined): string {
  const def = Object.values(DEFAULT_QUOTAS).find((d) => d.quotaCode === quotaCode);
  if (!def)
    return 'Delete resources you no longer need, or raise the quota with TRELLIS_QUOTA_<NAME> on `trellis up`.';
  const variable = `TRELLIS_QUOTA_${(def.key as QuotaKey).toUpperCase()}`;
  return `Delete resources you no longer need, or raise the quota: restart \`trellis up\` with ${variable}=<n> (default ${def.value}).`;
}

/**
 * Turns any failure of a client command into what was wrong and what to do (spec §1.6: the
 * exception name, message, resource and fieldList lines; a hint per exception type).
 */
export function describeFailure(error: unknown, context: ErrorContext): CliFailure {
  if (error instanceof CliFailure) {
    const [first = '', ...rest] = error.wrong;
    if (first.startsWith('trellis ')) return error;
    return new CliFailure([`${context.command}: ${first}`, ...rest], error.todo, error.exitCode);
  }
  const err = (
    error && typeof error === 'object' ? error : { message: String(error) }
  ) as ErrorLike;
  const name = err.name ?? 'Error';
  const message = err.message ?? String(error);
  const where = context.endpoint ?? 'the Trellis endpoint';

  const net = connectionCode(err);
  if (net) {
    const todo =
      net === 'ENOTFOUND' || net === 'EAI_AGAIN'
        ? `Check the host name in --endpoint/TRELLIS_ENDPOINT (${where}).`
        : `Is \`trellis up\` running? Start it with \`npx trellis up\`, or point --endpoint/TRELLIS_ENDPOINT at a running Trellis.` +
          (context.dataDir ? ` (a stale ${context.dataDir}/runtime.json can also cause this)` : '');
    return new CliFailure([`${context.command}: cannot reach ${where} (${net}).`], todo);
  }

  const wrong = [`${context.command}: ${name}: ${message}`];
  if (err.resourceType || err.resourceId) {
    wrong.push(`  resource: ${[err.resourceType, err.resourceId].filter(Boolean).join(' ')}`);
  }
  for (const f of err.fieldList ?? []) wrong.push(`  ${f.name ?? '?'}: ${f.message ?? ''}`);

  let todo: string;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    todo =
      'Run against a local `trellis up` (its data dir holds credentials; pass --data-dir), or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or AWS_SHARED_CREDENTIALS_FILE.';
  } else if (AUTHENTICATION_ERRORS.has(name)) {
    todo =
      'Use an access key Trellis issued (see <data-dir>/credentials, or `export AWS_SHARED_CREDENTIALS_FILE=<data-dir>/credentials`), and sign for the region Trellis runs in (--region).';
  } else {
    switch (name) {
      case 'ValidationException':
        todo = `Fix the value(s) named above; see \`${context.command} --help\`.`;
        break;
      case 'ResourceNotFoundException':
        todo = 'Check the id or ARN (list what exists with the `list` command of that resource).';
        break;
      case 'ConflictException':
        todo = /already exists|already associated|already in use/i.test(message)
          ? 'The name or association is taken: choose another name, or use the existing one (see the `list` command).'
          : 'Another resource depends on this one: delete the dependent associations first (`trellis association list`), or wait for in-progress changes to finish.';
        break;
      case 'ServiceQuotaExceededException':
        todo = quotaHint(err.quotaCode);
        break;
      case 'AccessDeniedException':
        todo =
          "The caller's identity is not allowed to do this: use the operator's credentials (<data-dir>/credentials) or grant the action with an IAM policy (`trellis iam`).";
        break;
      case 'ThrottlingException':
        todo = 'Trellis is limiting request rate: wait a moment and retry.';
        break;
      case 'InternalServerException':
        todo = 'Trellis failed internally: retry, and look at the `trellis up` log if it repeats.';
        break;
      default:
        todo =
          (err.$metadata?.httpStatusCode ?? 0) >= 500
            ? 'Trellis failed internally: retry, and look at the `trellis up` log if it repeats.'
            : `Check the command and its flags (\`${context.command} --help\`).`;
    }
  }
  return new CliFailure(wrong, todo);
}
