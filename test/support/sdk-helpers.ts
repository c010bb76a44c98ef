import assert from 'node:assert/strict';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Credentials, StartOptions, TrellisProcess } from './trellis-process.js';

/** ID and ARN formats of spec §1.3 (17 lowercase hex digits after the prefix). */
export const ID = {
  serviceNetwork: /^sn-[0-9a-f]{17}$/,
  service: /^svc-[0-9a-f]{17}$/,
  listener: /^listener-[0-9a-f]{17}$/,
  rule: /^rule-[0-9a-f]{17}$/,
  targetGroup: /^tg-[0-9a-f]{17}$/,
} as const;

/** `arn:aws:vpc-lattice:{region}:{account}:{resource}` for a resource path pattern. */
export function arnPattern(region: string, accountId: string, resource: string): RegExp {
  return new RegExp(`^arn:aws:vpc-lattice:${region}:${accountId}:${resource}$`);
}

/** Generated service DNS name (spec §1.5): `{name}-{17 hex}.{label}.vpc-lattice-svcs.{region}.on.aws`. */
export function serviceDnsPattern(name: string, serviceId: string, region: string): RegExp {
  const tail = serviceId.replace(/^svc-/, '');
  return new RegExp(`^${name}-${tail}\\.[0-9a-z]+\\.vpc-lattice-svcs\\.${region}\\.on\\.aws$`);
}

/** The SDK exception shapes tests look at. */
export interface SdkError extends Error {
  $metadata: { httpStatusCode?: number };
  fieldList?: { name: string; message: string }[];
  reason?: string;
  resourceId?: string;
  resourceType?: string;
  quotaCode?: string;
  serviceCode?: string;
}

/**
 * Awaits a call that must fail with the SDK exception class `type` (e.g. the SDK's
 * `ConflictException`) and returns the error for further checks.
 */
export async function expectAwsError(
  call: Promise<unknown>,
  type: abstract new (...args: never[]) => Error,
  status?: number,
): Promise<SdkError> {
  let err: unknown;
  try {
    await call;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${type.name}, but the call succeeded`);
  assert.ok(
    err instanceof type,
    `expected ${type.name}, got ${(err as Error).name}: ${(err as Error).message}`,
  );
  const e = err as SdkError;
  if (status !== undefined) assert.equal(e.$metadata.httpStatusCode, status);
  return e;
}

/** Names in a ValidationException's `fieldList`. */
export function fieldNames(err: SdkError): string[] {
  return (err.fieldList ?? []).map((f) => f.name);
}

/** Follows `nextToken` through every page, `maxResults` at a time; returns the pages. */
export async function allPages<T>(
  fetchPage: (nextToken: string | undefined) => Promise<{ items?: T[]; nextToken?: string }>,
): Promise<T[][]> {
  const pages: T[][] = [];
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    pages.push(page.items ?? []);
    token = page.nextToken;
    assert.ok(pages.length < 1000, 'pagination does not end');
  } while (token);
  return pages;
}

/**
 * Creates another account through Trellis's own `POST /_trellis/accounts`, signed (SigV4, service
 * `vpc-lattice`) as the operator's root, and returns its root credentials.
 */
export async function createAccount(
  proc: TrellisProcess,
  accountId?: string,
): Promise<{ accountId: string; credentials: Credentials }> {
  const url = new URL('/_trellis/accounts', proc.endpoint);
  const body = JSON.stringify(accountId ? { accountId } : {});
  const signer = new SignatureV4({
    service: 'vpc-lattice',
    region: proc.region,
    credentials: proc.credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: {},
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  });
  const res = await fetch(url, {
    method: 'POST',
    headers: signed.headers as Record<string, string>,
    body,
  });
  const text = await res.text();
  assert.equal(res.status, 201, `CreateAccount answered ${res.status}: ${text}`);
  const out = JSON.parse(text) as {
    accountId: string;
    accessKeyId: string;
    secretAccessKey: string;
  };
  return {
    accountId: out.accountId,
    credentials: { accessKeyId: out.accessKeyId, secretAccessKey: out.secretAccessKey },
  };
}

let counter = 0;
/** A unique, valid Lattice resource name with a readable stem (`stem-<n>-<random>`). */
export function uniqueName(stem: string): string {
  counter += 1;
  return `${stem}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The VPC `trellis up` creates for its default account (src/manager/default-vpc.ts). */
export function defaultVpcId(accountId: string): string {
  return `vpc-0${accountId.padStart(12, '0')}def0`;
}

/**
 * `startTrellis` options for control-plane tests: no data plane, and SQLite commits without an
 * fsync each (durability is tested elsewhere), so a file of API tests runs in seconds.
 */
export const CONTROL_PLANE_ONLY: StartOptions & { env: Record<string, string> } = {
  args: ['--no-dataplane'],
  env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' },
};
