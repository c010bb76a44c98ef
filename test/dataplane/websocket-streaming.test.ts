/**
 * WebSockets and streamed bodies through a real `trellis up`:
 * - `Upgrade: websocket` passes through on HTTP (fast path, which hands upgrades to node:http) and
 *   HTTPS listeners after routing and auth — a documented difference: Lattice itself does not
 *   support WebSockets (spec §6 quotas table). Client and server are the `ws` package.
 * - Request and response bodies stream: the first response bytes arrive while the request body
 *   is still being sent (a buffering proxy could not answer before the body ended), and 64 MiB go
 *   up and down whole. Memory growth is measured in bench/streaming.ts, not asserted here.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import {
  CreateListenerCommand,
  CreateServiceCommand,
  CreateServiceNetworkServiceAssociationCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import {
  createListener,
  createNetwork,
  createService,
  createTargetGroup,
  forwardTo,
  randomLoopback,
  randomPort,
  waitFor,
  type Network,
  type ServiceInfo,
} from '../support/dataplane-fixtures.js';
import { defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';

const ingress = randomLoopback();
const httpPort = randomPort();
let httpsPort = randomPort();
while (httpsPort === httpPort) httpsPort = randomPort();
const deniedPort = httpPort; // the AWS_IAM service shares the HTTP port, told apart by Host
const MIB = 1024 * 1024;
let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let net: Network;
let svc: ServiceInfo;
let denied: string;
let localCa: string;
let target: Server;
let wss: WebSocketServer;
/** Headers of the upgrade requests the target saw, by path. */
const upgrades = new Map<string, IncomingMessage['headers']>();

/**
 * The target: WebSocket echo (`ws`); `/stream-echo` answers at once and echoes the body as it
 * arrives; `/count` counts and hashes an upload; `/download?mib=N` sends N MiB.
 */
async function startTarget(): Promise<number> {
  target = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/stream-echo') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write('ready\n'); // before any body byte: a true streaming proxy relays this now
      req.pipe(res);
      return;
    }
    if (url.pathname === '/count') {
      const hash = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
        hash.update(c);
      });
      req.on('end', () => res.end(JSON.stringify({ bytes: n, sha256: hash.digest('hex') })));
      return;
    }
    if (url.pathname === '/download') {
      const total = Number(url.searchParams.get('mib') ?? '1') * MIB;
      const chunk = Buffer.alloc(MIB, 0x61);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    res.end('ok');
  });
  wss = new WebSocketServer({ server: target });
  wss.on('connection', (ws, req) => {
    upgrades.set(req.url ?? '', req.headers);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  return (target.address() as AddressInfo).port;
}

/** Opens a WebSocket through the proxy; resolves once open, or with the refusal's status. */
function openSocket(
  url: string,
  host: string,
  ca?: string,
): Promise<{ ws: WebSocket } | { status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: { host },
      ...(ca ? { ca, servername: host } : {}),
      handshakeTimeout: 10_000,
    });
    ws.once('open', () => {
      ws.on('error', () => undefined); // failures show in the round trips' assertions
      resolve({ ws });
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** Sends `text` and waits for the echo. */
function roundTrip(ws: WebSocket, data: string | Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    ws.once('message', (m: Buffer) => resolve(m));
    ws.once('error', reject);
    ws.send(data);
  });
}

function closeSocket(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    ws.close(1000, 'done');
  });
}

before(async () => {
  proc = await startTrellis({
    args: ['--dataplane-host', ingress],
    env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' },
  });
  lattice = proc.lattice();
  localCa = readFileSync(join(proc.dataDir, 'ca.pem'), 'utf8');
  const vpcId = defaultVpcId(proc.accountId);
  net = await createNetwork(lattice, vpcId);
  const targetPort = await startTarget();
  svc = await createService(lattice, net.id, { stem: 'ws' });
  const tg = await createTargetGroup(lattice, vpcId, targetPort, [{ id: '127.0.0.1' }]);
  await createListener(lattice, svc.id, httpPort, forwardTo(tg.id));
  await lattice.send(
    new CreateListenerCommand({
      serviceIdentifier: svc.id,
      name: uniqueName('https'),
      protocol: 'HTTPS',
      port: httpsPort,
      defaultAction: forwardTo(tg.id),
    }),
  );
  // An AWS_IAM service with no auth policy: every anonymous request is denied (spec §2.5).
  const locked = await lattice.send(
    new CreateServiceCommand({ name: uniqueName('locked'), authType: 'AWS_IAM' }),
  );
  await lattice.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceNetworkIdentifier: net.id,
      serviceIdentifier: locked.id,
    }),
  );
  const tg2 = await createTargetGroup(lattice, vpcId, targetPort, [{ id: '127.0.0.1' }]);
  await createListener(lattice, locked.id!, deniedPort, forwardTo(tg2.id));
  denied = locked.dnsEntry!.domainName!;
  // Converged once each listener answers a plain request the expected way.
  await waitFor(async () => (await plainGet(httpPort, svc.dnsName)) === 200, {
    timeoutMs: 30_000,
    message: 'HTTP listener serves the service',
  });
  await waitFor(async () => (await plainGet(deniedPort, denied)) === 403, {
    timeoutMs: 30_000,
    message: 'the AWS_IAM service denies',
  });
  await waitFor(async () => (await plainGet(httpsPort, svc.dnsName, localCa)) === 200, {
    timeoutMs: 30_000,
    message: 'HTTPS listener serves the service',
  });
});

after(async () => {
  lattice?.destroy();
  await proc?.stop();
  for (const c of wss?.clients ?? []) c.terminate();
  wss?.close();
  target?.closeAllConnections();
  await new Promise<void>((resolve) => (target ? target.close(() => resolve()) : resolve()));
});

/** Status of a GET `/` (HTTPS when `ca` is given), or 0 on a connection error. */
function plainGet(port: number, host: string, ca?: string): Promise<number> {
  return new Promise((resolve) => {
    const opts = { host: ingress, port, path: '/', headers: { host }, agent: false as const };
    const req = ca
      ? httpsRequest({ ...opts, ca, servername: host }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
      : httpRequest(opts, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
    req.on('error', () => resolve(0));
    req.end();
  });
}

describe('WebSockets pass through (a difference from Lattice, README)', () => {
  test('on an HTTP listener: messages echo both ways; the target sees the Lattice headers', async () => {
    const opened = await openSocket(`ws://${ingress}:${httpPort}/chat-http`, svc.dnsName);
    assert.ok('ws' in opened, `upgrade refused: ${JSON.stringify(opened)}`);
    const ws = opened.ws;
    assert.equal((await roundTrip(ws, 'hello')).toString(), 'hello');
    const big = Buffer.alloc(256 * 1024, 3);
    assert.deepEqual(await roundTrip(ws, big), big);
    await closeSocket(ws);
    const seen = upgrades.get('/chat-http');
    assert.ok(seen, 'the target got the upgrade');
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.match(String(seen['x-amzn-lattice-target']), /ServiceArn=arn:aws:vpc-lattice:/);
    assert.match(String(seen['x-amzn-requestid']), /./);
  });

  test('on an HTTPS listener (wss, verified against the local CA)', async () => {
    const opened = await openSocket(
      `wss://${ingress}:${httpsPort}/chat-https`,
      svc.dnsName,
      localCa,
    );
    assert.ok('ws' in opened, `upgrade refused: ${JSON.stringify(opened)}`);
    assert.equal((await roundTrip(opened.ws, 'over tls')).toString(), 'over tls');
    await closeSocket(opened.ws);
    assert.equal(upgrades.get('/chat-https')?.['x-forwarded-proto'], 'https');
  });

  test('auth applies before the upgrade: an AWS_IAM service without a policy answers 403', async () => {
    const opened = await openSocket(`ws://${ingress}:${deniedPort}/locked`, denied);
    assert.deepEqual(opened, { status: 403 });
    assert.equal(upgrades.has('/locked'), false);
  });

  test('an unknown host answers 404 and no upgrade happens', async () => {
    const opened = await openSocket(`ws://${ingress}:${httpPort}/nowhere`, 'nobody.example.com');
    assert.deepEqual(opened, { status: 404 });
  });
});

/** A streamed POST: sends `first`, waits for the first response bytes, then sends the rest. */
function streamEcho(
  port: number,
  ca?: string,
  extraHeaders: Record<string, string> = {},
): Promise<{ firstBeforeEnd: boolean; echoed: number; sent: number }> {
  return new Promise((resolve, reject) => {
    const first = Buffer.alloc(64 * 1024, 1);
    const rest = Buffer.alloc(MIB, 2);
    let ended = false;
    const onResponse = (res: IncomingMessage): void => {
      let got = 0;
      let firstBeforeEnd = false;
      res.on('data', (c: Buffer) => {
        if (got === 0) {
          firstBeforeEnd = !ended;
          // Only now send the rest of the body: the answer had to arrive before the body ended.
          ended = true;
          req.end(rest);
        }
        got += c.length;
      });
      res.on('end', () =>
        resolve({
          firstBeforeEnd,
          echoed: got - 'ready\n'.length,
          sent: first.length + rest.length,
        }),
      );
      res.on('error', reject);
    };
    const opts = {
      host: ingress,
      port,
      method: 'POST',
      path: '/stream-echo',
      headers: { host: svc.dnsName, 'transfer-encoding': 'chunked', ...extraHeaders },
      agent: false as const,
      timeout: 60_000,
    };
    const req = ca
      ? httpsRequest({ ...opts, ca, servername: svc.dnsName }, onResponse)
      : httpRequest(opts, onResponse);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.write(first);
  });
}

/** Uploads `mib` MiB generated on the fly to `/count`; resolves the target's count and hash. */
function upload(
  port: number,
  mib: number,
): Promise<{ bytes: number; sha256: string; expected: string }> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(MIB, 0x5a);
    const expected = createHash('sha256');
    const req = httpRequest(
      {
        host: ingress,
        port,
        method: 'POST',
        path: '/count',
        headers: { host: svc.dnsName, 'content-length': String(mib * MIB) },
        agent: false,
        timeout: 120_000,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({
            ...(JSON.parse(Buffer.concat(parts).toString()) as { bytes: number; sha256: string }),
            expected: expected.digest('hex'),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    let sent = 0;
    const pump = (): void => {
      while (sent < mib) {
        sent++;
        expected.update(chunk);
        if (sent === mib) return void req.end(chunk);
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
    };
    pump();
  });
}

describe('bodies stream through the proxy', () => {
  test('HTTP listener (fast path): response bytes arrive before the request body ends', async () => {
    const r = await streamEcho(httpPort);
    assert.equal(r.firstBeforeEnd, true);
    assert.equal(r.echoed, r.sent);
  });

  test('HTTPS listener: response bytes arrive before the request body ends', async () => {
    const r = await streamEcho(httpsPort, localCa);
    assert.equal(r.firstBeforeEnd, true);
    assert.equal(r.echoed, r.sent);
  });

  test('node:http path (Expect: 100-continue is handed to it): response before the body ends', async () => {
    const r = await streamEcho(httpPort, undefined, { expect: '100-continue' });
    assert.equal(r.firstBeforeEnd, true);
    assert.equal(r.echoed, r.sent);
  });

  test('64 MiB upload arrives whole', async () => {
    const r = await upload(httpPort, 64);
    assert.equal(r.bytes, 64 * MIB);
    assert.equal(r.sha256, r.expected);
  });

  test('64 MiB download arrives whole', async () => {
    const bytes = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: ingress,
          port: httpPort,
          path: '/download?mib=64',
          headers: { host: svc.dnsName },
          agent: false,
          timeout: 120_000,
        },
        (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => (n += c.length));
          res.on('end', () => resolve(n));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(bytes, 64 * MIB);
  });
});
