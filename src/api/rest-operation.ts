import type { ServerResponse } from 'node:http';
import type { OperationScope, WriteScope } from '../manager/manager-context.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The decoded parts of a REST-JSON request an operation sees. */
export interface OperationInput {
  /** URI labels, percent-decoded (spec §1.1: ARNs arrive encoded). */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The JSON body (an empty object when there is none). */
  body: Record<string, unknown>;
}

/** What an operation returns: the JSON body (undefined for an empty body). */
export type OperationOutput = Record<string, unknown> | undefined;

/**
 * One entry of the operation table: the HTTP binding of an API operation (spec §1.2) and its
 * handler. Write operations (any method but GET) run inside one store transaction.
 */
export interface RestOperation {
  name: string;
  method: HttpMethod;
  /** URI template, e.g. `/servicenetworks/{serviceNetworkIdentifier}`. */
  path: string;
  successStatus: number;
  /** IAM action checked for management calls; default `vpc-lattice:<name>`. */
  action?: string;
  /** Top-level JSON members the operation accepts; others answer ValidationException. */
  bodyMembers?: readonly string[];
  /** Query-string members the operation accepts. */
  queryMembers?: readonly string[];
  /** Skip member checks (operations whose answer does not depend on the request). */
  anyMembers?: boolean;
  /** Has a `clientToken` (idempotent create, spec §1.1). */
  idempotencyToken?: boolean;
  handler(
    scope: OperationScope & Partial<WriteScope>,
    input: OperationInput,
  ): Promise<OperationOutput>;
  /**
   * Set for operations whose body is not a JSON object and whose answer is not one (Lambda
   * Invoke: raw payload in, raw payload and headers out). Runs instead of `handler`, outside any
   * store transaction (an invocation may take minutes and may call back into the API), and writes
   * the response itself; `input.body` is then `{}`.
   */
  raw?(
    scope: OperationScope,
    input: OperationInput & { rawBody: Buffer },
    res: ServerResponse,
  ): Promise<void>;
}

/** Narrows the scope of a write operation (the API runs every non-GET operation in a transaction). */
export function writeScope(scope: OperationScope & Partial<WriteScope>): WriteScope {
  if (!scope.tx) throw new Error('write operation called outside a transaction');
  return scope as WriteScope;
}
