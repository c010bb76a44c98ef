import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AwsError,
  ConflictException,
  InternalServerException,
  ValidationException,
} from '../errors/aws-errors.js';
import { FIXED_LIMITS } from '../model/quotas.js';
import type {
  Caller,
  ControlPlaneStore,
  ManagerContext,
  OperationScope,
  WriteScope,
} from '../manager/manager-context.js';
import type { OperationInput, OperationOutput, RestOperation } from './rest-operation.js';
import { RouteTable } from './route-table.js';

/** A request as authentication sees it: wire form of method, path, query, headers and body. */
export interface ApiRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  remoteAddress: string;
}

/** An authenticated caller plus the service the request was signed for (`vpc-lattice`, `iam`, …). */
export interface AuthenticatedCaller extends Caller {
  signingService: string;
}

export interface Authenticator {
  /** Resolves the caller, or throws an AwsError (AuthenticationError, 403). */
  authenticate(request: ApiRequest): Promise<AuthenticatedCaller>;
}

export interface ManagementAuthorizer {
  /** Throws AccessDeniedException when the caller's identity policies do not allow `action`. */
  authorize(caller: AuthenticatedCaller, action: string, resource: string): Promise<void>;
}

/** A handler for AWS Query-protocol services (IAM, STS) reached by `POST /` with a form body. */
export interface QueryProtocolHandler {
  handle(caller: AuthenticatedCaller, request: ApiRequest, res: ServerResponse): Promise<void>;
  /** Renders an error raised before `handle` (e.g. authentication) in the service's XML format. */
  renderError?(err: AwsError, requestId: string, res: ServerResponse): void;
}

/** A handler for AWS JSON-protocol services (ACM) reached by `POST /` with `X-Amz-Target`. */
export interface JsonTargetHandler {
  handle(caller: AuthenticatedCaller, request: ApiRequest, res: ServerResponse): Promise<void>;
}

export interface ApiLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ApiServerOptions {
  store: ControlPlaneStore;
  ctx: ManagerContext;
  operations: readonly RestOperation[];
  authenticator: Authenticator;
  authorizer?: ManagementAuthorizer;
  /** Query-protocol services by signing name (`iam`, `sts`). */
  queryServices?: Record<string, QueryProtocolHandler>;
  /** JSON-target services (awsJson1_1 `X-Amz-Target`) by signing name (`acm`). */
  jsonTargetServices?: Record<string, JsonTargetHandler>;
  /**
   * REST-JSON services other than Lattice by signing name (`ram`): every request signed for that
   * name goes to its handler, whatever the path (their paths would otherwise share one table).
   */
  restServices?: Record<string, JsonTargetHandler>;
  /** Extra plain routes (`GET /metrics`), answered without authentication. */
  publicRoutes?: Record<
    string,
    (req: IncomingMessage, res: ServerResponse) => void | Promise<void>
  >;
  logger?: ApiLogger;
  /** Called after every operation (for metrics and logs). */
  onOperation?: (record: { operation: string; status: number; durationMs: number }) => void;
}

export interface ApiServer {
  start(host: string, port: number): Promise<AddressInfo>;
  stop(): Promise<void>;
  readonly server: Server;
}

const JSON_TYPE = 'application/json';

/** The control-plane HTTP edge: REST-JSON (Lattice wire format), Query protocol, health. */
export function createApiServer(options: ApiServerOptions): ApiServer {
  const routes = new RouteTable(options.operations);
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 65_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q >= 0 ? url.slice(0, q) : url;
    const rawQuery = q >= 0 ? url.slice(q + 1) : '';
    let operationName = 'Unknown';
    try {
      if (req.method === 'GET' && rawPath === '/health') {
        writeJson(res, 200, { status: 'ok' });
        return;
      }
      const publicRoute = options.publicRoutes?.[`${req.method} ${rawPath}`];
      if (publicRoute) {
        await publicRoute(req, res);
        return;
      }
      const body = await readBody(req, FIXED_LIMITS.apiBodyBytes);
      const apiRequest: ApiRequest = {
        method: req.method ?? 'GET',
        rawPath,
        rawQuery,
        headers: req.headers,
        body,
        remoteAddress: req.socket.remoteAddress ?? '',
      };
      const caller = await options.authenticator.authenticate(apiRequest);
      const queryHandler = options.queryServices?.[caller.signingService];
      if (queryHandler && req.method === 'POST' && rawPath === '/') {
        operationName = `${caller.signingService}:Query`;
        await queryHandler.handle(caller, apiRequest, res);
        return;
      }
      const jsonHandler = options.jsonTargetServices?.[caller.signingService];
      if (jsonHandler && req.method === 'POST' && rawPath === '/') {
        operationName = String(req.headers['x-amz-target'] ?? `${caller.signingService}:Unknown`);
        await jsonHandler.handle(caller, apiRequest, res);
        return;
      }
      const restHandler = options.restServices?.[caller.signingService];
      if (restHandler) {
        operationName = `${caller.signingService}:${rawPath}`;
        await restHandler.handle(caller, apiRequest, res);
        return;
      }
      const match = routes.match(apiRequest.method, rawPath);
      if (!match || match === 'method') {
        throw new ValidationException(
          `No operation matches ${apiRequest.method} ${rawPath}. Check the endpoint and the API version of your client.`,
          [],
          'unknownOperation',
        );
      }
      const op = match.operation;
      operationName = op.name;
      const input: OperationInput = {
        params: match.params,
        query: new URLSearchParams(rawQuery),
        body: op.raw ? {} : parseJsonBody(body),
      };
      validateMembers(op, input);
      await options.authorizer?.authorize(
        caller,
        op.action ?? `vpc-lattice:${op.name}`,
        resourceForAuthorization(input),
      );
      if (op.raw) {
        const scope: OperationScope = { ctx: options.ctx, caller, reader: options.store.reader };
        return await op.raw(scope, { ...input, rawBody: body }, res);
      }
      const output = await runOperation(op, caller, input);
      if (op.successStatus === 204 || output === undefined) {
        res.statusCode = op.successStatus;
        if (output !== undefined && op.successStatus !== 204)
          writeJson(res, op.successStatus, output);
        else res.end();
      } else {
        writeJson(res, op.successStatus, output);
      }
    } catch (err) {
      const awsError = err instanceof AwsError ? err : undefined;
      if (!awsError) {
        options.logger?.error({ err, operation: operationName, requestId }, 'operation failed');
      }
      const e =
        awsError ?? new InternalServerException(`Internal error (request id ${requestId}).`);
      // IAM/STS clients parse XML errors: a Query request failing authentication is answered
      // by its service's renderer (the signing name is read from the credential scope).
      const queryService =
        req.method === 'POST' && rawPath === '/'
          ? options.queryServices?.[signingServiceOf(req.headers.authorization)]
          : undefined;
      if (!res.headersSent && queryService?.renderError) {
        queryService.renderError(e, requestId, res);
      } else if (!res.headersSent) {
        res.setHeader('x-amzn-ErrorType', e.errorType);
        writeJson(res, e.statusCode, e.body());
      } else res.destroy();
    } finally {
      options.onOperation?.({
        operation: operationName,
        status: res.statusCode,
        durationMs: performance.now() - started,
      });
    }
  }

  async function runOperation(
    op: RestOperation,
    caller: AuthenticatedCaller,
    input: OperationInput,
  ): Promise<OperationOutput> {
    if (op.method === 'GET') {
      const scope: OperationScope = { ctx: options.ctx, caller, reader: options.store.reader };
      return op.handler(scope, input);
    }
    return options.store.transact(async (tx) => {
      const scope: WriteScope = { ctx: options.ctx, caller, reader: tx, tx };
      const token = op.idempotencyToken ? input.body.clientToken : undefined;
      if (typeof token === 'string' && token.length) {
        // spec §1.1: same token + same parameters → the original result; different → conflict.
        const hash = requestHash(input);
        const prior = await tx.getIdempotency(caller.accountId, op.name, token);
        if (prior) {
          if (prior.requestHash !== hash) {
            throw new ConflictException(
              `The clientToken ${token} was already used with different parameters for ${op.name}.`,
              token,
              'CLIENT_TOKEN',
            );
          }
          return JSON.parse(prior.response) as OperationOutput;
        }
        const output = await op.handler(scope, input);
        await tx.putIdempotency({
          accountId: caller.accountId,
          operation: op.name,
          clientToken: token,
          requestHash: hash,
          response: JSON.stringify(output ?? null),
          createdAt: options.ctx.now(),
        });
        return output;
      }
      return op.handler(scope, input);
    });
  }

  return {
    server,
    start(host, port) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    stop() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}

/** The service of a SigV4 `Authorization` header's credential scope (`…/date/region/service/…`). */
function signingServiceOf(authorization: string | undefined): string {
  const m = /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(authorization ?? '');
  return m?.[1] ?? '';
}

function writeJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        if (!failed) {
          failed = true;
          reject(
            new ValidationException(
              `The request body exceeds the limit of ${limit} bytes.`,
              [],
              'other',
            ),
          );
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (!body.length) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ValidationException(
      `The request body is not valid JSON: ${(err as Error).message}`,
      [],
      'cannotParse',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationException('The request body must be a JSON object.', [], 'cannotParse');
  }
  return parsed as Record<string, unknown>;
}

function validateMembers(op: RestOperation, input: OperationInput): void {
  if (op.anyMembers) return;
  const fields: { name: string; message: string }[] = [];
  const allowed = op.bodyMembers ?? [];
  for (const k of Object.keys(input.body)) {
    if (k === 'clientToken' && op.idempotencyToken) {
      const t = input.body.clientToken;
      if (typeof t !== 'string' || t.length < 1 || t.length > 64 || !/^[!-~]+$/.test(t)) {
        fields.push({ name: 'clientToken', message: 'must be 1-64 printable ASCII characters' });
      }
      continue;
    }
    if (!allowed.includes(k)) fields.push({ name: k, message: 'is not a member of this request' });
  }
  const queryAllowed = op.queryMembers ?? [];
  for (const k of new Set(input.query.keys())) {
    if (!queryAllowed.includes(k)) {
      fields.push({ name: k, message: 'is not a query parameter of this operation' });
    }
  }
  if (fields.length) throw ValidationException.fromFields(fields);
}

/** The resource named by the request for management authorization: an ARN label if any, else `*`. */
function resourceForAuthorization(input: OperationInput): string {
  for (const v of Object.values(input.params)) if (v.startsWith('arn:')) return v;
  return '*';
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value as object).sort();
    return `{${keys
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function requestHash(input: OperationInput): string {
  const { clientToken: _ignored, ...rest } = input.body;
  return createHash('sha256')
    .update(canonicalJson({ params: input.params, body: rest }))
    .digest('hex');
}
