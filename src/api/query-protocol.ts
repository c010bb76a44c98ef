/**
 * The AWS Query wire format (IAM, STS; issue auth §1): a form-encoded `POST /` naming an `Action`
 * and `Version`, members flattened with `.member.N` for lists and `.member.N.Key/Value` for tag
 * lists, answered with an XML `<{Action}Response>` wrapping `<{Action}Result>` and
 * `<ResponseMetadata>`, or an `<ErrorResponse>` whose `<Code>` the official clients map to their
 * exception classes.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { AccessDeniedException, AuthenticationError, AwsError } from '../errors/aws-errors.js';
import { IamError, type IamErrorCode } from '../errors/iam-errors.js';
import type { ManagerContext, OperationScope, WriteScope } from '../manager/manager-context.js';
import type {
  ApiServerOptions,
  ApiLogger,
  ApiRequest,
  AuthenticatedCaller,
  ManagementAuthorizer,
  QueryProtocolHandler,
} from './api-server.js';

/** The store as the API edge receives it (api/ reaches the store only through the edge). */
type Store = ApiServerOptions['store'];

/** A value an XML response is built from: objects are elements, arrays are `<member>` lists. */
export type XmlValue =
  | string
  | number
  | boolean
  | Date
  | null
  | undefined
  | readonly XmlValue[]
  | { readonly [name: string]: XmlValue };

/** The members of a `<…Result>` element. */
export type XmlObject = { readonly [name: string]: XmlValue };

/** The decoded form body of a Query request, with AWS's list and map flattening rules. */
export class QueryParams {
  private constructor(private readonly map: ReadonlyMap<string, string>) {}

  /** Parses an `application/x-www-form-urlencoded` body (later duplicates win, as AWS does). */
  static parse(body: string | Buffer): QueryParams {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    const map = new Map<string, string>();
    for (const [k, v] of new URLSearchParams(text)) map.set(k, v);
    return new QueryParams(map);
  }

  /** Builds params from a plain record (tests, the CLI's own shapes). */
  static of(record: Readonly<Record<string, string>>): QueryParams {
    return new QueryParams(new Map(Object.entries(record)));
  }

  get action(): string | undefined {
    return this.map.get('Action');
  }

  get version(): string | undefined {
    return this.map.get('Version');
  }

  /** A member's text, or undefined when absent. */
  optional(name: string): string | undefined {
    return this.map.get(name);
  }

  /** Whether any member's name starts with `prefix` (e.g. a list of structures was sent). */
  hasPrefix(prefix: string): boolean {
    for (const k of this.map.keys()) if (k.startsWith(prefix)) return true;
    return false;
  }

  /** A member that must be present: AWS's `Member must not be null` validation error otherwise. */
  required(name: string): string {
    const v = this.map.get(name);
    if (v === undefined) {
      throw new IamError(
        'ValidationError',
        `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
      );
    }
    return v;
  }

  /** An integer member, or undefined when absent; ValidationError if not an integer in range. */
  integer(name: string, min: number, max: number): number | undefined {
    const v = this.map.get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || n < min || n > max) {
      throw new IamError(
        'ValidationError',
        `1 validation error detected: Value '${v}' at '${lowerFirst(name)}' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
      );
    }
    return n;
  }

  /** A boolean member (`true`/`false`), or undefined. */
  boolean(name: string): boolean | undefined {
    const v = this.map.get(name);
    if (v === undefined) return undefined;
    return v.toLowerCase() === 'true';
  }

  /** A list member: `Name.member.1`, `Name.member.2`, … in index order. */
  list(name: string): string[] {
    const prefix = `${name}.member.`;
    const entries: [number, string][] = [];
    for (const [k, v] of this.map) {
      if (!k.startsWith(prefix)) continue;
      const rest = k.slice(prefix.length);
      if (/^\d+$/.test(rest)) entries.push([Number(rest), v]);
    }
    return entries.sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  }

  /** A list of `{Key, Value}` structures: `Name.member.N.Key` / `Name.member.N.Value`. */
  tagList(name = 'Tags'): { Key: string; Value: string }[] {
    const prefix = `${name}.member.`;
    const byIndex = new Map<number, { Key?: string; Value?: string }>();
    for (const [k, v] of this.map) {
      if (!k.startsWith(prefix)) continue;
      const m = /^(\d+)\.(Key|Value)$/.exec(k.slice(prefix.length));
      if (!m) continue;
      const i = Number(m[1]);
      const entry = byIndex.get(i) ?? {};
      entry[m[2] as 'Key' | 'Value'] = v;
      byIndex.set(i, entry);
    }
    return [...byIndex.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([i, e]) => {
        if (e.Key === undefined) {
          throw new IamError(
            'ValidationError',
            `1 validation error detected: Value null at '${lowerFirst(name)}.${i}.member.key' failed to satisfy constraint: Member must not be null`,
          );
        }
        return { Key: e.Key, Value: e.Value ?? '' };
      });
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#13;',
};

/** Escapes element text (and keeps a CR from being normalised away by the client's parser). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) => XML_ESCAPES[c] as string);
}

function renderValue(out: string[], value: XmlValue): void {
  if (value === null || value === undefined) return;
  if (value instanceof Date) {
    out.push(value.toISOString());
  } else if (Array.isArray(value)) {
    for (const item of value as readonly XmlValue[]) {
      out.push('<member>');
      renderValue(out, item);
      out.push('</member>');
    }
  } else if (typeof value === 'object') {
    renderMembers(out, value as XmlObject);
  } else {
    out.push(escapeXml(String(value)));
  }
}

function renderMembers(out: string[], obj: XmlObject): void {
  for (const [name, v] of Object.entries(obj)) {
    if (v === undefined || v === null) continue;
    out.push(`<${name}>`);
    renderValue(out, v);
    out.push(`</${name}>`);
  }
}

/** `<{action}Response xmlns=…><{action}Result>…</…Result><ResponseMetadata>…` as AWS answers. */
export function renderQueryResponse(
  action: string,
  namespace: string,
  result: XmlObject | undefined,
  requestId: string,
): string {
  const out: string[] = [`<${action}Response xmlns="${namespace}">`];
  if (result !== undefined) {
    out.push(`<${action}Result>`);
    renderMembers(out, result);
    out.push(`</${action}Result>`);
  }
  out.push(`<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`);
  out.push(`</${action}Response>`);
  return out.join('');
}

/** The Query `<Code>` and status of any error an operation or the edge raised. */
export function queryErrorOf(err: AwsError): {
  code: string;
  status: number;
  type: 'Sender' | 'Receiver';
} {
  if (err instanceof IamError)
    return { code: err.code, status: err.statusCode, type: err.faultType };
  if (err instanceof AccessDeniedException)
    return { code: 'AccessDenied', status: 403, type: 'Sender' };
  if (err instanceof AuthenticationError) {
    // IAM and STS name authentication failures differently from the JSON services.
    const byType: Record<string, IamErrorCode> = {
      MissingAuthenticationTokenException: 'MissingAuthenticationToken',
      IncompleteSignatureException: 'IncompleteSignature',
      InvalidSignatureException: 'SignatureDoesNotMatch',
      UnrecognizedClientException: 'InvalidClientTokenId',
      ExpiredTokenException: 'ExpiredToken',
      InvalidClientTokenId: 'InvalidClientTokenId',
      SignatureDoesNotMatch: 'SignatureDoesNotMatch',
    };
    return { code: byType[err.errorType] ?? err.errorType, status: 403, type: 'Sender' };
  }
  if (err.errorType === 'ValidationException') {
    return { code: 'ValidationError', status: 400, type: 'Sender' };
  }
  return {
    code: err.statusCode >= 500 ? 'ServiceFailure' : err.errorType,
    status: err.statusCode,
    type: err.statusCode >= 500 ? 'Receiver' : 'Sender',
  };
}

/** `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`. */
export function renderQueryError(err: AwsError, requestId: string, namespace?: string): string {
  const { code, type } = queryErrorOf(err);
  const xmlns = namespace ? ` xmlns="${namespace}"` : '';
  return (
    `<ErrorResponse${xmlns}><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(err.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

/** Writes an XML Query error with its status. */
export function writeQueryError(
  res: ServerResponse,
  err: AwsError,
  requestId: string,
  namespace?: string,
): void {
  const body = renderQueryError(err, requestId, namespace);
  res.writeHead(queryErrorOf(err).status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** The scope a Query operation runs in; write operations also get `tx`. */
export type QueryScope = OperationScope & Partial<WriteScope>;

/** One Query action: its binding to a manager function, and how it is authorised. */
export interface QueryOperation {
  /** The `Action` value, e.g. `CreateRole`. */
  readonly name: string;
  /** The IAM action checked by the management authorizer (`iam:CreateRole`); none → not checked. */
  readonly action?: string;
  /** Runs inside one store transaction. */
  readonly write: boolean;
  /** The resource ARN the action is authorised on; default `*`. */
  resource?(scope: OperationScope, params: QueryParams): string | Promise<string>;
  handler(scope: QueryScope, params: QueryParams): Promise<XmlObject | undefined>;
}

/** What a Query service needs: its wire identity, its actions, and the shared edge parts. */
export interface QueryServiceOptions {
  store: Store;
  ctx: ManagerContext;
  /** `https://iam.amazonaws.com/doc/2010-05-08/` or the STS namespace. */
  namespace: string;
  /** `2010-05-08` (IAM) or `2011-06-15` (STS). */
  version: string;
  operations: readonly QueryOperation[];
  authorizer?: ManagementAuthorizer;
  logger?: ApiLogger;
}

/** IAM's XML namespace and API version. */
export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const IAM_VERSION = '2010-05-08';
/** STS's XML namespace and API version. */
export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const STS_VERSION = '2011-06-15';

/** A Query-protocol service the API edge routes `POST /` to by SigV4 signing name. */
export interface QueryService extends QueryProtocolHandler {
  /** Renders an error raised before `handle` (authentication) in this service's wire format. */
  renderError(err: AwsError, requestId: string, res: ServerResponse): void;
}

/** Creates the handler of one Query service (IAM or STS) over its operation table. */
export function createQueryService(options: QueryServiceOptions): QueryService {
  const byName = new Map(options.operations.map((op) => [op.name, op]));
  return {
    async handle(caller: AuthenticatedCaller, request: ApiRequest, res: ServerResponse) {
      const requestId = headerText(res.getHeader('x-amzn-RequestId')) ?? randomUUID();
      try {
        const params = QueryParams.parse(request.body);
        const action = params.action;
        if (action === undefined) {
          throw new IamError('MissingAction', 'Missing Action');
        }
        const op = byName.get(action);
        if (!op || (params.version !== undefined && params.version !== options.version)) {
          throw new IamError(
            'InvalidAction',
            `Could not find operation ${action} for version ${params.version ?? 'NO_VERSION_SPECIFIED'}`,
          );
        }
        const readScope: OperationScope = {
          ctx: options.ctx,
          caller,
          reader: options.store.reader,
        };
        if (op.action && options.authorizer) {
          const resource = op.resource ? await op.resource(readScope, params) : '*';
          await options.authorizer.authorize(caller, op.action, resource);
        }
        const result = op.write
          ? await options.store.transact((tx) =>
              op.handler({ ctx: options.ctx, caller, reader: tx, tx }, params),
            )
          : await op.handler(readScope, params);
        const body = renderQueryResponse(action, options.namespace, result, requestId);
        res.writeHead(200, {
          'content-type': 'text/xml',
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
      } catch (err) {
        if (!(err instanceof AwsError)) {
          options.logger?.error({ err, requestId }, 'query operation failed');
        }
        const e =
          err instanceof AwsError
            ? err
            : new IamError('ServiceFailure', `Internal error (request id ${requestId}).`);
        if (!res.headersSent) writeQueryError(res, e, requestId, options.namespace);
        else res.destroy();
      }
    },
    renderError(err, requestId, res) {
      writeQueryError(res, err, requestId, options.namespace);
    },
  };
}

function headerText(v: number | string | string[] | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v[0];
  return undefined;
}
