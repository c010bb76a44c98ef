/**
 * Lambda-style functions as Trellis keeps and runs them (issue 6): the stored configuration of a
 * local function, and the outcome of one invocation as every runner (local worker pool, external
 * Invoke-API endpoint) reports it. Shared by `functions/` (runs them), `manager/` (Lambda API) and
 * `dataplane/` (LAMBDA targets), so it lives in the lowest room.
 */

/** Where a function's code comes from. */
export type FunctionCodeSource =
  | { kind: 'zip'; codeDir: string }
  | { kind: 'directory'; codeDir: string }
  | { kind: 'external'; endpointUrl: string };

/** What the runner needs to run one local function. */
export interface FunctionDefinition {
  functionName: string;
  functionArn: string;
  /** `file.export`, e.g. `index.handler` (a path may contain `/`: `src/app.handler`). */
  handler: string;
  /** Absolute folder holding the code. */
  codeDir: string;
  /** Execution role ARN; its temporary credentials reach the handler's environment. */
  role?: string;
  timeoutSeconds: number;
  memorySizeMb: number;
  environment: Readonly<Record<string, string>>;
  /** Concurrent invocations (workers); default the runner's. */
  concurrency?: number;
}

/** The Lambda `FunctionConfiguration` Trellis stores (store kind `function`). */
export interface StoredFunction {
  FunctionName: string;
  FunctionArn: string;
  Runtime: string;
  Role: string;
  Handler: string;
  CodeSize: number;
  CodeSha256: string;
  Description: string;
  Timeout: number;
  MemorySize: number;
  LastModified: string;
  Version: string;
  PackageType: 'Zip';
  State: 'Active';
  Environment?: { Variables: Record<string, string> };
  /** Trellis's own: where the code sits on this machine. */
  trellis: FunctionCodeSource;
}

/** Lambda's payload limit for synchronous invocations, request and response (spec §3.3, §6). */
export const FUNCTION_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

/**
 * The outcome of one synchronous invocation. Expected failures are values, not throws:
 * - `ok`: the function returned; `payload` is its JSON result.
 * - `function-error`: the function failed (threw, timed out, exited, ran out of memory, returned
 *   too much); `payload` is Lambda's error JSON (`errorType`, `errorMessage`, `trace`).
 * - `not-found`: no function by that name/ARN.
 * - `unavailable`: the function could not be run at all (external endpoint unreachable, module no
 *   longer loads, too many queued invocations).
 */
export type FunctionInvokeResult =
  | { status: 'ok'; payload: string }
  | { status: 'function-error'; errorType: string; payload: string }
  | { status: 'not-found'; message: string }
  | { status: 'unavailable'; message: string; throttled?: boolean };

/** Options of one invocation. */
export interface FunctionInvokeOptions {
  /** Caller-side deadline (ms); the function's own timeout applies too. */
  timeoutMs?: number;
  /** Request id handed to the handler as `context.awsRequestId`. */
  requestId?: string;
}

/** Splits `arn:…:lambda:region:account:function:name[:qualifier]` → its name; else the input. */
export function functionNameOf(nameOrArn: string): string {
  const m =
    /^arn:[a-z0-9-]+:lambda:[a-z0-9-]+:\d{12}:function:([a-zA-Z0-9_-]{1,64})(?::[^:]+)?$/.exec(
      nameOrArn,
    );
  if (m) return m[1]!;
  const partial = /^(?:\d{12}:)?function:([a-zA-Z0-9_-]{1,64})(?::[^:]+)?$/.exec(nameOrArn);
  if (partial) return partial[1]!;
  return nameOrArn;
}

/** A function ARN without its qualifier (`:$LATEST`, version or alias); undefined if not an ARN. */
export function unqualifiedFunctionArn(arn: string): string | undefined {
  const m =
    /^(arn:[a-z0-9-]+:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]{1,64})(?::[^:]+)?$/.exec(arn);
  return m?.[1];
}
