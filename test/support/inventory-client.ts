import assert from 'node:assert/strict';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Credentials, TrellisProcess } from './trellis-process.js';

/** The answer of a Trellis inventory call: status and parsed JSON body (undefined when empty). */
export interface InventoryResponse {
  status: number;
  body: Record<string, unknown> | undefined;
  errorType: string | null;
}

/**
 * Calls Trellis's own inventory API (`/_trellis/...`, see src/api/operations/inventory-operations.ts)
 * with a request signed by `@smithy/signature-v4`, as the CLI does.
 */
export async function inventoryCall(
  proc: TrellisProcess,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  credentials: Credentials = proc.credentials,
): Promise<InventoryResponse> {
  const url = new URL(path, proc.endpoint);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { host: url.host };
  if (text !== undefined) headers['content-type'] = 'application/json';
  const signer = new SignatureV4({
    service: 'vpc-lattice',
    region: proc.region,
    credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query,
    headers,
    body: text,
  });
  const res = await fetch(url, {
    method,
    headers: signed.headers as Record<string, string>,
    body: text,
  });
  const out = await res.text();
  return {
    status: res.status,
    body: out ? (JSON.parse(out) as Record<string, unknown>) : undefined,
    errorType: res.headers.get('x-amzn-errortype'),
  };
}

let nextAddress = 10;
/**
 * A loopback address no other VPC of this process uses (`127.77.x.y`); ingress addresses must be
 * unique across VPCs.
 */
export function freshLoopback(): string {
  nextAddress += 1;
  return `127.77.${Math.floor(nextAddress / 250)}.${(nextAddress % 250) + 1}`;
}

/** Creates a VPC (201 expected) and returns its id. */
export async function createVpc(
  proc: TrellisProcess,
  body: Record<string, unknown> = {},
  credentials?: Credentials,
): Promise<string> {
  const res = await inventoryCall(
    proc,
    'POST',
    '/_trellis/vpcs',
    { ingressAddresses: [freshLoopback()], ...body },
    credentials,
  );
  assert.equal(res.status, 201, `CreateVpc answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body!.vpcId as string;
}

/** Creates an instance in `vpcId` (201 expected) and returns its id. */
export async function createInstance(
  proc: TrellisProcess,
  vpcId: string,
  address = '127.0.0.1',
): Promise<string> {
  const res = await inventoryCall(proc, 'POST', '/_trellis/instances', { vpcId, address });
  assert.equal(
    res.status,
    201,
    `CreateInstance answered ${res.status}: ${JSON.stringify(res.body)}`,
  );
  return res.body!.instanceId as string;
}

/** Creates an application load balancer in `vpcId` (201 expected) and returns its ARN. */
export async function createLoadBalancer(
  proc: TrellisProcess,
  vpcId: string,
  name: string,
  address = '127.0.0.1',
): Promise<string> {
  const res = await inventoryCall(proc, 'POST', '/_trellis/loadbalancers', {
    name,
    vpcId,
    address,
  });
  assert.equal(
    res.status,
    201,
    `CreateLoadBalancer answered ${res.status}: ${JSON.stringify(res.body)}`,
  );
  return res.body!.loadBalancerArn as string;
}
