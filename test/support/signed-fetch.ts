import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Credentials } from './trellis-process.js';

export interface SignedFetchOptions {
  endpoint: string;
  region: string;
  credentials: Credentials;
  method: string;
  /** Path with an optional query string, e.g. `/servicenetworks?maxResults=5`. */
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  service?: string;
  /** Signing time (to test clock skew). */
  signingDate?: Date;
}

/** Sends a request signed by the official `@smithy/signature-v4` signer, as an SDK would. */
export async function signedFetch(
  o: SignedFetchOptions,
): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }> {
  const url = new URL(o.path, o.endpoint);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const signer = new SignatureV4({
    service: o.service ?? 'vpc-lattice',
    region: o.region,
    credentials: o.credentials,
    sha256: Sha256,
  });
  const headers: Record<string, string> = { host: url.host, ...(o.headers ?? {}) };
  if (o.body !== undefined && !headers['content-type'])
    headers['content-type'] = 'application/json';
  const signed = await signer.sign(
    {
      method: o.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers,
      body: o.body,
    },
    o.signingDate ? { signingDate: o.signingDate } : {},
  );
  const res = await fetch(url, {
    method: o.method,
    headers: signed.headers as Record<string, string>,
    body: o.body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}
