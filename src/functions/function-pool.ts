import { Worker } from 'node:worker_threads';
import type { Writable } from 'node:stream';
import {
  FUNCTION_PAYLOAD_LIMIT_BYTES,
  type FunctionDefinition,
  type FunctionInvokeResult,
} from '../model/function-types.js';
import { WORKER_SOURCE } from './worker-source.js';

/** How a function's module is loaded in its workers (resolved once by the runner). */
export interface LoadPlan {
  moduleUrl: string;
  exportName: string;
  /** `tsx/esm/api` URL when the module is TypeScript. */
  tsxUrl: string | undefined;
}

/** A module that does not load: Lambda's `errorType` and the loader's message. */
export interface LoadFailure {
  errorType: string;
  errorMessage: string;
}

/** Environment for the handler's credentials, with a version that changes on refresh. */
export interface CredentialEnv {
  version: number;
  env: Record<string, string>;
}

/** What a pool needs from its runner. */
export interface PoolDeps {
  plan: LoadPlan;
  /** The function's environment (base Lambda variables + its own). */
  env: Record<string, string>;
  log: Writable;
  concurrency: number;
  maxQueue: number;
  /** Current role credentials; undefined when the function has no role. */
  credentials?: () => Promise<CredentialEnv>;
  onColdStart?: (initDurationMs: number) => void;
}

interface Pending {
  event: string;
  requestId: string;
  timeoutMs: number;
  resolve: (r: FunctionInvokeResult) => void;
}

let nextInvocationId = 1;

function errorPayload(errorType: string, errorMessage: string): FunctionInvokeResult {
  return {
    status: 'function-error',
    errorType,
    payload: JSON.stringify({ errorType, errorMessage, trace: [] }),
  };
}

/** One worker thread and the invocation it runs (at most one at a time, as a Lambda sandbox). */
class WorkerSlot {
  readonly worker: Worker;
  readonly startedAt = performance.now();
  ready = false;
  dead = false;
  credentialsVersion = -1;
  invocationId = 0;
  current: Pending | null = null;
  startedInvocationAt = 0;
  timer: NodeJS.Timeout | null = null;
  /** Resolves when the module loaded (or failed to). */
  readonly loaded: Promise<LoadFailure | undefined>;
  private resolveLoaded!: (f: LoadFailure | undefined) => void;

  constructor(
    readonly pool: FunctionPool,
    def: FunctionDefinition,
    deps: PoolDeps,
  ) {
    this.loaded = new Promise((r) => (this.resolveLoaded = r));
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // Not the parent's flags: a `--import tsx` inherited by every worker doubles a cold start;
      // TypeScript handlers load through tsx's `tsImport` instead (worker-source.ts).
      execArgv: [],
      workerData: {
        ...deps.plan,
        handler: def.handler,
        functionName: def.functionName,
        functionArn: def.functionArn,
        memorySizeMb: def.memorySizeMb,
      },
      env: deps.env,
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: def.memorySizeMb },
    });
    this.worker.stdout.pipe(deps.log, { end: false });
    this.worker.stderr.pipe(deps.log, { end: false });
    this.worker.on('message', (m: WorkerMessage) => this.onMessage(m));
    this.worker.on('error', (err: Error & { code?: string }) => this.onFailure(err));
    this.worker.on('exit', (code) => this.onExit(code));
  }

  private onMessage(m: WorkerMessage): void {
    if (m.t === 'ready') {
      this.ready = true;
      this.resolveLoaded(undefined);
    } else if (m.t === 'load-error') {
      this.resolveLoaded({ errorType: m.errorType, errorMessage: m.errorMessage });
      this.kill();
    } else if (m.t === 'result' && m.id === this.invocationId && this.current !== null) {
      let result: FunctionInvokeResult;
      if (m.ok) {
        result =
          m.payload.length > FUNCTION_PAYLOAD_LIMIT_BYTES &&
          Buffer.byteLength(m.payload) > FUNCTION_PAYLOAD_LIMIT_BYTES
            ? errorPayload(
                'Function.ResponseSizeTooLarge',
                `Response payload size exceeded maximum allowed payload size (${FUNCTION_PAYLOAD_LIMIT_BYTES} bytes).`,
              )
            : { status: 'ok', payload: m.payload };
      } else {
        result = {
          status: 'function-error',
          errorType: m.error.errorType,
          payload: JSON.stringify(m.error),
        };
      }
      this.complete(result, false);
    }
  }

  /** Error thrown out of the worker (uncaught exception, out of memory): the worker is gone. */
  private onFailure(err: Error & { code?: string }): void {
    const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
    this.fail(
      oom ? 'Runtime.OutOfMemory' : 'Runtime.UncaughtException',
      oom
        ? `Runtime exited: the function ran out of memory (${err.message})`
        : `${err.name}: ${err.message}`,
    );
  }

  private onExit(code: number): void {
    this.fail(
      'Runtime.ExitError',
      `RequestId: ${this.current?.requestId ?? '-'} Error: Runtime exited with code ${code}`,
    );
  }

  private fail(errorType: string, errorMessage: string): void {
    const wasDead = this.dead;
    this.dead = true;
    if (!this.ready) this.resolveLoaded({ errorType, errorMessage });
    if (this.current !== null) this.complete(errorPayload(errorType, errorMessage), true);
    else if (!wasDead) this.pool.retire(this);
  }

  run(p: Pending, env: CredentialEnv | undefined): void {
    this.current = p;
    this.invocationId = nextInvocationId++;
    this.startedInvocationAt = performance.now();
    const deadlineMs = Date.now() + p.timeoutMs;
    const message: InvokeMessage = {
      t: 'invoke',
      id: this.invocationId,
      event: p.event,
      requestId: p.requestId,
      deadlineMs,
    };
    if (env !== undefined && env.version !== this.credentialsVersion) {
      message.env = env.env;
      this.credentialsVersion = env.version;
    }
    this.timer = setTimeout(() => this.timedOut(), p.timeoutMs);
    this.worker.postMessage(message);
  }

  private timedOut(): void {
    const p = this.current;
    if (p === null) return;
    const seconds = (p.timeoutMs / 1000).toFixed(2);
    // A handler that never returns or loops forever: the thread is terminated and replaced.
    this.complete(
      errorPayload(
        'Sandbox.Timedout',
        `RequestId: ${p.requestId} Error: Task timed out after ${seconds} seconds`,
      ),
      true,
    );
  }

  private complete(result: FunctionInvokeResult, replace: boolean): void {
    const p = this.current!;
    this.current = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const ms = performance.now() - this.startedInvocationAt;
    this.pool.report(p.requestId, ms, result);
    p.resolve(result);
    if (replace || this.dead) {
      this.dead = true;
      this.kill();
      this.pool.retire(this);
    } else this.pool.release(this);
  }

  kill(): void {
    this.dead = true;
    void this.worker.terminate().catch(() => undefined);
  }
}

type WorkerMessage =
  | { t: 'ready' }
  | { t: 'load-error'; errorType: string; errorMessage: string }
  | { t: 'result'; id: number; ok: true; payload: string }
  | {
      t: 'result';
      id: number;
      ok: false;
      error: { errorType: string; errorMessage: string; trace: string[] };
    };

interface InvokeMessage {
  t: 'invoke';
  id: number;
  event: string;
  requestId: string;
  deadlineMs: number;
  env?: Record<string, string>;
}

/**
 * The workers of one local function: up to `concurrency` threads, warm ones reused (a cold start
 * only when none is idle), invocations beyond that queued up to `maxQueue`, a failed worker
 * replaced by a fresh one on the next invocation while the others keep serving.
 */
export class FunctionPool {
  private readonly slots = new Set<WorkerSlot>();
  private readonly idle: WorkerSlot[] = [];
  private readonly queue: Pending[] = [];
  private starting = 0;
  private stopped = false;

  constructor(
    readonly def: FunctionDefinition,
    private readonly deps: PoolDeps,
  ) {}

  /** Starts one worker and waits for its module: the create-time load check. Keeps it warm. */
  async load(): Promise<LoadFailure | undefined> {
    const slot = this.spawn();
    const failure = await this.awaitReady(slot);
    if (failure === undefined) this.release(slot);
    return failure;
  }

  /** Runs one invocation; never throws. */
  invoke(
    event: string,
    requestId: string,
    callerTimeoutMs?: number,
  ): Promise<FunctionInvokeResult> {
    if (this.stopped)
      return Promise.resolve({ status: 'unavailable', message: 'function removed' });
    let timeoutMs = this.def.timeoutSeconds * 1000;
    if (callerTimeoutMs !== undefined && callerTimeoutMs < timeoutMs) timeoutMs = callerTimeoutMs;
    return new Promise((resolve) => {
      const p: Pending = { event, requestId, timeoutMs, resolve };
      const slot = this.idle.pop();
      if (slot !== undefined) return this.dispatch(slot, p);
      if (this.queue.length >= this.deps.maxQueue)
        return resolve({
          status: 'unavailable',
          throttled: true,
          message: `Rate exceeded: ${this.def.functionName} has ${this.queue.length} invocations waiting`,
        });
      this.queue.push(p);
      if (this.slots.size + this.starting < this.deps.concurrency) void this.coldStart();
    });
  }

  private async coldStart(): Promise<void> {
    this.starting++;
    const slot = this.spawn();
    this.starting--;
    const failure = await this.awaitReady(slot);
    if (failure !== undefined) {
      // The module stopped loading (edited on disk?): fail what waits rather than loop.
      const waiting = this.queue.splice(0);
      for (const p of waiting) p.resolve(errorPayload(failure.errorType, failure.errorMessage));
      return;
    }
    this.release(slot);
  }

  private spawn(): WorkerSlot {
    const slot = new WorkerSlot(this, this.def, this.deps);
    this.slots.add(slot);
    return slot;
  }

  private async awaitReady(slot: WorkerSlot): Promise<LoadFailure | undefined> {
    const failure = await slot.loaded;
    if (failure !== undefined) {
      slot.kill();
      this.slots.delete(slot);
      return failure;
    }
    const initMs = performance.now() - slot.startedAt;
    this.deps.log.write(
      `INIT_START Runtime Version: nodejs:${process.versions.node}\tFunction: ${this.def.functionName}\tInit Duration: ${initMs.toFixed(2)} ms\n`,
    );
    this.deps.onColdStart?.(initMs);
    return undefined;
  }

  private dispatch(slot: WorkerSlot, p: Pending): void {
    const credentials = this.deps.credentials;
    if (credentials === undefined) {
      this.deps.log.write(`START RequestId: ${p.requestId} Version: $LATEST\n`);
      slot.run(p, undefined);
      return;
    }
    credentials().then(
      (env) => {
        this.deps.log.write(`START RequestId: ${p.requestId} Version: $LATEST\n`);
        slot.run(p, env);
      },
      (err: unknown) => {
        p.resolve({
          status: 'unavailable',
          message: `Could not get credentials for the execution role ${this.def.role}: ${(err as Error).message}`,
        });
        this.release(slot);
      },
    );
  }

  /** A slot finished an invocation and can take the next one. */
  release(slot: WorkerSlot): void {
    if (this.stopped || slot.dead) return this.retire(slot);
    const next = this.queue.shift();
    if (next !== undefined) this.dispatch(slot, next);
    else this.idle.push(slot);
  }

  /** A slot died or was killed; a queued invocation gets a fresh worker. */
  retire(slot: WorkerSlot): void {
    this.slots.delete(slot);
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
    if (
      !this.stopped &&
      this.queue.length > 0 &&
      this.slots.size + this.starting < this.deps.concurrency
    )
      void this.coldStart();
  }

  report(requestId: string, ms: number, result: FunctionInvokeResult): void {
    if (result.status === 'function-error')
      this.deps.log.write(
        `${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error\t${result.payload}\n`,
      );
    this.deps.log.write(
      `END RequestId: ${requestId}\nREPORT RequestId: ${requestId}\tDuration: ${ms.toFixed(2)} ms\tMemory Size: ${this.def.memorySizeMb} MB\n`,
    );
  }

  /** Workers alive now (tests, metrics). */
  get size(): number {
    return this.slots.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const p of this.queue.splice(0))
      p.resolve({ status: 'unavailable', message: 'function removed' });
    const all = [...this.slots];
    this.slots.clear();
    this.idle.length = 0;
    await Promise.all(all.map((s) => s.worker.terminate().catch(() => undefined)));
  }
}
