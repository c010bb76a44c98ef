/**
 * The forwarder of LAMBDA targets (spec §3.3). A LAMBDA target's `pool` is a `LambdaDispatcher`:
 * it takes the same `dispatch(options, handler)` call as an HTTP target's undici pool, so the
 * request pipeline (data-plane.ts) and the response relay (`Exchange`, forwarder.ts) are shared.
 * Instead of opening a connection it reads the body (≤ 6 MB), builds the V1/V2 event, invokes the
 * function through the `FunctionInvoker` and replays its answer on the handler.
 *
 * Outcomes (docs/functions.md): request body over 6 MB → 413; a malformed function response →
 * 502 `TargetProtocolError`; a function error (throws, exits, out of memory) → 502
 * `TargetProtocolError`; a function timeout (its own, or the service's idle timeout) → 504
 * `TargetDataTimeout`, as ALB answers for Lambda; unknown or unreachable function → 502
 * `TargetConnectionError`.
 */
import type { Readable } from 'node:stream';
import { Dispatcher } from 'undici';
import { FUNCTION_PAYLOAD_LIMIT_BYTES } from '../model/function-types.js';
import { Exchange } from './forwarder.js';
import type { FunctionInvoker } from './function-invoker.js';
import {
  buildLambdaEvent,
  parseLambdaResponse,
  parseTargetHeader,
  type LambdaEventVersion,
  type TargetArns,
} from './lambda-event.js';
import type { DataPlaneLogger } from './logger.js';

/** undici's legacy callback handler, the shape `Exchange` implements. */
interface CallbackHandler {
  onConnect?(abort: (err?: Error) => void): void;
  onHeaders?(
    statusCode: number,
    headers: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: string[] | null): void;
  onError?(err: Error): void;
}

/** An error whose `code` forwarder.ts's `classifyUpstreamError` maps to the wanted outcome. */
class LambdaOutcomeError extends Error {
  constructor(
    readonly code: 'UND_ERR_HEADERS_TIMEOUT' | 'ECONNREFUSED' | 'HPE_LAMBDA_RESPONSE',
    message: string,
  ) {
    super(message);
  }
}

const TOO_LARGE = Symbol('too-large');
const PAYLOAD_TOO_LARGE = Buffer.from('Payload Too Large\n');
const NO_OP = (): void => undefined;

/** Reads a request body up to `limit` bytes; `TOO_LARGE` past it (the rest is left unread). */
function readBody(stream: Readable, limit: number): Promise<Buffer | typeof TOO_LARGE> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        stream.pause();
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('client closed before sending the body'));
    };
    function cleanup(): void {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    }
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

function headerOf(headers: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i + 1 < headers.length; i += 2)
    if (headers[i]!.toLowerCase() === lowerName) return headers[i + 1];
  return undefined;
}

function epochMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** The `pool` of one LAMBDA target: invokes `functionArn` with events of `version`. */
export class LambdaDispatcher extends Dispatcher {
  /** `x-amzn-lattice-target` value → its ARNs; one entry per (service, network, group). */
  private readonly targets = new Map<string, TargetArns>();

  constructor(
    readonly functionArn: string,
    readonly version: LambdaEventVersion,
    private readonly region: string,
    private readonly invoker: FunctionInvoker,
    private readonly logger: DataPlaneLogger,
  ) {
    super();
  }

  override dispatch(
    options: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
  ): boolean {
    void this.run(options, handler as CallbackHandler);
    return true;
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    if (callback !== undefined) return callback();
    return Promise.resolve();
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: unknown, b?: unknown): Promise<void> | void {
    const cb = typeof a === 'function' ? a : typeof b === 'function' ? b : undefined;
    if (cb !== undefined) return (cb as () => void)();
    return Promise.resolve();
  }

  private async run(options: Dispatcher.DispatchOptions, h: CallbackHandler): Promise<void> {
    let aborted = false;
    h.onConnect?.(() => {
      aborted = true;
    });
    if (aborted) return;
    const headers = (options.headers ?? []) as string[];
    let body: Buffer | null = null;
    if (options.body !== null && options.body !== undefined) {
      const declared = Number(headerOf(headers, 'content-length') ?? 0);
      let read: Buffer | typeof TOO_LARGE;
      if (declared > FUNCTION_PAYLOAD_LIMIT_BYTES) read = TOO_LARGE;
      else {
        try {
          read = await readBody(options.body as Readable, FUNCTION_PAYLOAD_LIMIT_BYTES);
        } catch {
          aborted = true;
          h.onError?.(new LambdaOutcomeError('ECONNREFUSED', 'client closed'));
          return;
        }
      }
      if (read === TOO_LARGE) return this.refuseLarge(h);
      body = read;
    }
    if (aborted) return;

    const targetHeader = headerOf(headers, 'x-amzn-lattice-target');
    let target: TargetArns | undefined;
    if (targetHeader !== undefined) {
      target = this.targets.get(targetHeader);
      if (target === undefined)
        this.targets.set(targetHeader, (target = parseTargetHeader(targetHeader)));
    }
    const event = buildLambdaEvent(
      this.version,
      {
        method: options.method,
        path: options.path,
        headers,
        body,
        region: this.region,
        timeEpochUs: epochMicros(),
      },
      target,
    );
    const payload = JSON.stringify(event);
    if (Buffer.byteLength(payload) > FUNCTION_PAYLOAD_LIMIT_BYTES) return this.refuseLarge(h);
    const requestId = headerOf(headers, 'x-amzn-requestid');
    const timeoutMs =
      typeof options.headersTimeout === 'number' ? options.headersTimeout : undefined;
    const result = await this.invoker.invoke(this.functionArn, payload, {
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
    });
    if (aborted) return;
    switch (result.status) {
      case 'ok': {
        const response = parseLambdaResponse(result.payload);
        if ('problem' in response) {
          this.logger.warn('malformed Lambda response', {
            functionArn: this.functionArn,
            requestId,
            problem: response.problem,
          });
          return h.onError?.(new LambdaOutcomeError('HPE_LAMBDA_RESPONSE', response.problem));
        }
        const raw: Buffer[] = [];
        for (let i = 0; i < response.headers.length; i++)
          raw.push(Buffer.from(response.headers[i]!, 'utf8'));
        raw.push(Buffer.from('content-length'), Buffer.from(String(response.body.length)));
        if (h.onHeaders?.(response.statusCode, raw, NO_OP, '') === false && aborted) return;
        if (response.body.length > 0) h.onData?.(response.body);
        h.onComplete?.(null);
        return;
      }
      case 'function-error': {
        this.logger.warn('Lambda function error', {
          functionArn: this.functionArn,
          requestId,
          errorType: result.errorType,
        });
        const timedOut = result.errorType === 'Sandbox.Timedout';
        return h.onError?.(
          new LambdaOutcomeError(
            timedOut ? 'UND_ERR_HEADERS_TIMEOUT' : 'HPE_LAMBDA_RESPONSE',
            result.errorType,
          ),
        );
      }
      default:
        this.logger.warn('Lambda function not invocable', {
          functionArn: this.functionArn,
          requestId,
          status: result.status,
          message: result.message,
        });
        return h.onError?.(new LambdaOutcomeError('ECONNREFUSED', result.message));
    }
  }

  /** spec §3.3/§6: request bodies over 6 MB are refused (413), the connection then closed. */
  private refuseLarge(h: CallbackHandler): void {
    if (h instanceof Exchange) {
      if (h.res.record !== null) h.res.record.failureReason = 'ClientProtocolError';
      h.res.shouldKeepAlive = false;
    }
    const raw = [
      Buffer.from('content-type'),
      Buffer.from('text/plain; charset=utf-8'),
      Buffer.from('content-length'),
      Buffer.from(String(PAYLOAD_TOO_LARGE.length)),
    ];
    h.onHeaders?.(413, raw, NO_OP, 'Payload Too Large');
    h.onData?.(PAYLOAD_TOO_LARGE);
    h.onComplete?.(null);
  }
}

/** Creates the LAMBDA targets' dispatchers for each compiled snapshot. */
export class LambdaForwarder {
  constructor(
    private readonly invoker: FunctionInvoker,
    private readonly logger: DataPlaneLogger,
  ) {}

  /** The `acquireFunction` dependency of `compileSnapshot` for `region`. */
  acquireFor(
    region: string,
  ): (functionArn: string, version: LambdaEventVersion) => LambdaDispatcher {
    return (functionArn, version) =>
      new LambdaDispatcher(functionArn, version, region, this.invoker, this.logger);
  }
}
