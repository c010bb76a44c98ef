// The Order service: a Lambda function (announcement: "The Order service, running as a Lambda
// function"). For each order it checks stock on Inventory, books a delivery on Delivery and takes
// the payment on Payment — every call a plain HTTP request through the service network, signed
// with SigV4 for `vpc-lattice-svcs` (UNSIGNED-PAYLOAD, as the VPC Lattice docs' samples sign).
//
// Credentials come from the AWS SDK's default provider chain, i.e. the function's execution role:
// Trellis, like Lambda, puts the role session's keys in AWS_ACCESS_KEY_ID/… of the environment.
// Nothing here is Trellis-specific except LATTICE_INGRESS: on AWS the service DNS names resolve
// (through the VPC's resolver) to VPC Lattice's link-local addresses; the function connects to its
// VPC's ingress address instead and sends the service name as Host (and as TLS SNI for HTTPS).
// LATTICE_CA_FILE, when set, is the root Payment's certificate chains to (Trellis's local CA).
//
// The handler answers Lattice LAMBDA-target events (V1 or V2) and direct Invoke payloads alike.
// It also runs the demo's probes: `canaryProbes` extra Delivery calls (to show the weighted split)
// and one call the auth policy must refuse (POST /stock on Inventory).
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';

const ca = process.env.LATTICE_CA_FILE ? readFileSync(process.env.LATTICE_CA_FILE) : undefined;

const signer = new SignatureV4({
  service: 'vpc-lattice-svcs',
  region: process.env.AWS_REGION ?? 'us-east-1',
  credentials: fromNodeProviderChain(),
  sha256: Sha256,
  uriEscapePath: false, // Lattice verifies the path as sent (encoded once)
  applyChecksum: false,
});

/** Calls `method url` through the service network, signed as this function's role. */
async function call(service, method, url, body) {
  const u = new URL(url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers = { host: u.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
  if (text !== undefined) headers['content-type'] = 'application/json';
  const query = {};
  for (const [k, v] of u.searchParams) query[k] = v;
  const signed = await signer.sign({
    method,
    protocol: u.protocol,
    hostname: u.hostname,
    path: u.pathname,
    query,
    headers,
  });
  const started = Date.now();
  const answer = await new Promise((resolve, reject) => {
    const tls = u.protocol === 'https:';
    const req = (tls ? httpsRequest : httpRequest)(
      {
        host: process.env.LATTICE_INGRESS ?? u.hostname,
        port: u.port || (tls ? 443 : 80),
        ...(tls ? { servername: u.hostname, ...(ca ? { ca } : {}) } : {}),
        method,
        path: u.pathname + u.search,
        headers: signed.headers,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(text);
  });
  let json;
  try {
    json = JSON.parse(answer.text);
  } catch {
    json = undefined;
  }
  return {
    service,
    method,
    path: u.pathname + u.search,
    status: answer.status,
    protocol: u.protocol.replace(':', '').toUpperCase(),
    ms: Date.now() - started,
    ...(json !== undefined ? { body: json } : { text: answer.text }),
  };
}

function orderFrom(event) {
  // A Lattice event carries the HTTP request; a direct Invoke carries the order itself.
  if (
    event &&
    typeof event === 'object' &&
    'method' in event &&
    ('raw_path' in event || 'path' in event)
  ) {
    const raw = event.body ?? '';
    const text =
      event.is_base64_encoded || event.isBase64Encoded
        ? Buffer.from(raw, 'base64').toString()
        : raw;
    return { order: text ? JSON.parse(text) : {}, caller: event.requestContext?.identity ?? null };
  }
  return { order: event ?? {}, caller: null };
}

export const handler = async (event) => {
  const { order, caller } = orderFrom(event);
  const item = order.item ?? 'sku-42';
  const quantity = order.quantity ?? 1;
  const orderId = `ord-${Date.now().toString(36)}`;
  const { INVENTORY_URL, DELIVERY_URL, PAYMENT_URL } = process.env;

  const calls = [];
  const stock = await call(
    'inventory',
    'GET',
    `${INVENTORY_URL}/stock?item=${encodeURIComponent(item)}`,
  );
  calls.push(stock);
  const available = stock.status === 200 && (stock.body?.available ?? 0) >= quantity;
  let status = 'out-of-stock';
  if (available) {
    const delivery = await call('delivery', 'POST', `${DELIVERY_URL}/delivery`, {
      orderId,
      item,
      quantity,
    });
    calls.push(delivery);
    const payment = await call('payment', 'POST', `${PAYMENT_URL}/pay`, {
      orderId,
      amount: 19.99 * quantity,
    });
    calls.push(payment);
    status = delivery.status < 300 && payment.status < 300 ? 'placed' : 'failed';
  }

  // The canary: Delivery's rule sends a weighted share of /delivery* to v1 and v2.
  const canary = { calls: 0, byVersion: {} };
  for (let i = 0; i < (order.canaryProbes ?? 0); i++) {
    const r = await call('delivery', 'GET', `${DELIVERY_URL}/delivery/status/${orderId}`);
    const key = r.status === 200 ? `${r.body.version}` : `HTTP ${r.status}`;
    canary.calls += 1;
    canary.byVersion[key] = (canary.byVersion[key] ?? 0) + 1;
  }

  // Not allowed by Inventory's auth policy (GET /stock only): the service network refuses it.
  const forbidden = order.tryForbidden
    ? await call('inventory', 'POST', `${INVENTORY_URL}/stock`, { item, delta: -quantity })
    : undefined;

  return {
    statusCode: status === 'placed' ? 200 : status === 'out-of-stock' ? 409 : 502,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      orderId,
      status,
      item,
      quantity,
      invokedBy: caller,
      calls,
      canary,
      forbidden,
    }),
  };
};
