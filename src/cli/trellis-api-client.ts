import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ClientConfig } from './client-config.js';

/** A failed call of Trellis's own API, shaped like the SDK's service exceptions. */
export class TrellisApiError extends Error {
  readonly $metadata: { httpStatusCode: number };
  readonly fieldList?: { name: string; message: string }[];
  readonly resourceId?: string;
  readonly resourceType?: string;
  readonly quotaCode?: string;
  readonly reason?: string;
  constructor(name: string, status: number, body: Record<string, unknown>) {
    super(typeof body.message === 'string' ? body.message : `HTTP ${status}`);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
    if (Array.isArray(body.fieldList))
      this.fieldList = body.fieldList as { name: string; message: string }[];
    if (typeof body.resourceId === 'string') this.resourceId = body.resourceId;
    if (typeof body.resourceType === 'string') this.resourceType = body.resourceType;
    if (typeof body.quotaCode === 'string') this.quotaCode = body.quotaCode;
    if (typeof body.reason === 'string') this.reason = body.reason;
  }
}

/** A client of Trellis's own operations (`/_trellis/…`), SigV4-signed like the Lattice API. */
export interface TrellisApiClient {
  /** Sends one request; resolves to the parsed JSON body (undefined when empty). */
  request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    options?: { body?: unknown; query?: Record<string, string | undefined> },
  ): Promise<T>;
  /** Follows `nextToken` through a list operation answering `{ items, nextToken }`. */
  listAll<T>(
    path: string,
    options?: { maxItems?: number; query?: Record<string, string | undefined> },
  ): Promise<T[]>;
}

/** The AWS error name of a response: `x-amzn-ErrorType` (before `:`, after `#`), else body. */
function errorName(header: string | null, body: Record<string, unknown>): string {
  const raw =
    header ??
    (typeof body.__type === 'string' ? body.__type : undefined) ??
    (typeof body.code === 'string' ? body.code : undefined);
  if (!raw) return 'UnknownError';
  return raw.split(':')[0]!.split('#').pop()!;
}

/** Creates a signed client for the `/_trellis/…` operations of the configured endpoint. */
export function createTrellisApiClient(config: ClientConfig): TrellisApiClient {
  const base = new URL(config.endpoint);
  const signer = new SignatureV4({
    service: 'vpc-lattice',
    region: config.region,
    credentials: config.credentials,
    sha256: Sha256,
  });

  async function request<T>(
    method: string,
    path: string,
    options: { body?: unknown; query?: Record<string, string | undefined> } = {},
  ): Promise<T> {
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) query[k] = v;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { host: base.host };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const signed = await signer.sign({
      method,
      protocol: base.protocol,
      hostname: base.hostname,
      port: base.port ? Number(base.port) : undefined,
      path: `${base.pathname.replace(/\/$/, '')}${path}`,
      query,
      headers,
      body,
    });
    const url = new URL(signed.path, base);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const sent: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') sent[k] = v;
    const res = await fetch(url, { method, headers: sent, body });
    const text = await res.text();
    let parsed: unknown;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { message: text };
      }
    }
    if (!res.ok) {
      const errBody = (parsed && typeof parsed === 'object' ? parsed : {}) as Record<
        string,
        unknown
      >;
      throw new TrellisApiError(
        errorName(res.headers.get('x-amzn-errortype'), errBody),
        res.status,
        errBody,
      );
    }
    return parsed as T;
  }

  return {
    request,
    async listAll<T>(
      path: string,
      options: { maxItems?: number; query?: Record<string, string | undefined> } = {},
    ) {
      const items: T[] = [];
      let nextToken: string | undefined;
      do {
        const page = await request<{ items?: T[]; nextToken?: string }>('GET', path, {
          query: { ...options.query, nextToken },
        });
        items.push(...(page?.items ?? []));
        nextToken = page?.nextToken;
      } while (nextToken && (options.maxItems === undefined || items.length < options.maxItems));
      return options.maxItems === undefined ? items : items.slice(0, options.maxItems);
    },
  };
}
