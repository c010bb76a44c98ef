/**
 * HTTP/2 and gRPC through a real `trellis up` (spec §7.1 ALPN, §7.3 protocol matrix, §2.2 gRPC
 * signing, §4.1 access-log fields): configured with `@aws-sdk/client-vpc-lattice`; clients are
 * node:http2 and `@grpc/grpc-js`, both verifying the listener's certificate against the local CA
 * root the process exports (`<data-dir>/ca.pem`); targets are real `@grpc/grpc-js` servers (h2c),
 * a node:http2 server that answers non-gRPC, and an HTTP/1.1 server.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import {
  connect as h2connect,
  constants as h2constants,
  createServer as createH2Server,
  type ClientHttp2Session,
  type Http2Server,
  type IncomingHttpHeaders,
} from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  CreateAccessLogSubscriptionCommand,
  CreateListenerCommand,
  CreateServiceCommand,
  CreateServiceNetworkServiceAssociationCommand,
  CreateTargetGroupCommand,
  PutAuthPolicyCommand,
  RegisterTargetsCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import {
  createNetwork,
  createTargetGroup,
  forwardTo,
  randomLoopback,
  randomPort,
  startUpstream,
  targetStatuses,
  waitFor,
  type EchoBody,
  type Network,
  type RecordingUpstream,
} from '../support/dataplane-fixtures.js';
import { defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';
import { selfSignedCertificate } from '../../src/iam/x509/certificate-issuer.js';

const ingress = randomLoopback();
const port = randomPort();
const LOG_GROUP = `h2-${Math.random().toString(36).slice(2, 8)}`;
let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let net: Network;
let vpcId: string;
let localCa: string;
let grpcTarget: grpc.Server;
let grpcPort: number;
/** The same service over TLS, with a self-signed certificate (HTTPS GRPC target group). */
let grpcTlsTarget: grpc.Server;
let htmlTarget: Http2Server;
let htmlPort: number;
/** An h2c target that closes each connection (GOAWAY) after answering one stream. */
let recycler: Http2Server;
let h1: RecordingUpstream;
const svc: Record<string, { id: string; arn: string; host: string }> = {};

// ---- a generic gRPC service with raw Buffer (de)serializers: no proto compilation needed ----
const raw = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};
const ECHO = {
  Unary: { path: '/test.Echo/Unary', requestStream: false, responseStream: false, ...raw },
  Fail: { path: '/test.Echo/Fail', requestStream: false, responseStream: false, ...raw },
  Count: { path: '/test.Echo/Count', requestStream: false, responseStream: true, ...raw },
  Chat: { path: '/test.Echo/Chat', requestStream: true, responseStream: true, ...raw },
  /** Client streaming: answers the total bytes received. */
  Upload: { path: '/test.Echo/Upload', requestStream: true, responseStream: false, ...raw },
  /** Server streaming: `n` messages of 256 KiB. */
  Download: { path: '/test.Echo/Download', requestStream: false, responseStream: true, ...raw },
} satisfies grpc.ServiceDefinition;
const EchoClient = grpc.makeGenericClientConstructor(ECHO, 'Echo');
type Echo = InstanceType<typeof EchoClient> & Record<string, (...args: unknown[]) => unknown>;

/** What the gRPC target saw of a call (answered as JSON). */
interface SeenCall {
  payload: string;
  metadata: Record<string, unknown>;
}

function startGrpcTarget(
  credentials = grpc.ServerCredentials.createInsecure(),
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(ECHO, {
    Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const seen: SeenCall = {
        payload: call.request.toString(),
        metadata: call.metadata.getMap(),
      };
      cb(null, Buffer.from(JSON.stringify(seen)));
    },
    Fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb({ code: grpc.status.NOT_FOUND, details: 'no such parking lot' }),
    Count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const n = Number(call.request.toString());
      for (let i = 1; i <= n; i++) call.write(Buffer.from(String(i)));
      call.end();
    },
    Upload: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      let total = 0;
      call.on('data', (b: Buffer) => (total += b.length));
      call.on('end', () => cb(null, Buffer.from(String(total))));
    },
    Download: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      let left = Number(call.request.toString());
      // Respects backpressure: the proxy's flow-control windows decide the pace.
      const pump = (): void => {
        while (left > 0) {
          left--;
          if (!call.write(chunk)) return void call.once('drain', pump);
        }
        call.end();
      };
      pump();
    },
    Chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (b: Buffer) => call.write(Buffer.from(`echo:${b.toString()}`)));
      call.on('end', () => call.end());
    },
  });
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) =>
      err ? reject(err) : resolve({ server, port: p }),
    ),
  );
}

/** A gRPC client of `host` through the listener, verifying TLS against the local CA. */
function client(host: string, authority = host): Echo {
  return new EchoClient(`${ingress}:${port}`, grpc.credentials.createSsl(Buffer.from(localCa)), {
    'grpc.ssl_target_name_override': host,
    'grpc.default_authority': authority,
  }) as Echo;
}

interface Outcome {
  code: number;
  details: string;
  value?: string;
  trailers?: Record<string, unknown>;
}

function unary(
  c: Echo,
  method: string,
  payload: string,
  md = new grpc.Metadata(),
): Promise<Outcome> {
  return new Promise((resolve) => {
    let trailers: Record<string, unknown> | undefined;
    const call = c[method]!(
      Buffer.from(payload),
      md,
      { deadline: Date.now() + 15_000 },
      (err: grpc.ServiceError | null, value?: Buffer) =>
        resolve(
          err
            ? { code: err.code, details: err.details, trailers: err.metadata?.getMap() }
            : { code: 0, details: '', value: value!.toString(), ...(trailers ? { trailers } : {}) },
        ),
    ) as grpc.ClientUnaryCall;
    call.on('status', (s: grpc.StatusObject) => (trailers = s.metadata.getMap()));
  });
}

/** Creates a target group (config as given, health checks off) with `targets`. */
async function group(
  protocolVersion: 'HTTP1' | 'HTTP2' | 'GRPC',
  targetPort: number,
  targets: { id: string }[],
  protocol: 'HTTP' | 'HTTPS' = 'HTTP',
): Promise<string> {
  const tg = await lattice.send(
    new CreateTargetGroupCommand({
      name: uniqueName('h2tg'),
      type: 'IP',
      config: {
        port: targetPort,
        protocol,
        protocolVersion,
        vpcIdentifier: vpcId,
        healthCheck: { enabled: false },
      },
    }),
  );
  if (targets.length > 0)
    await lattice.send(new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets }));
  return tg.id!;
}

/** A service with an HTTPS listener on `port` (generated name, local CA certificate). */
async function httpsService(
  name: string,
  targetGroupId: string,
  authType: 'NONE' | 'AWS_IAM' = 'NONE',
): Promise<void> {
  const s = await lattice.send(new CreateServiceCommand({ name: uniqueName(name), authType }));
  await lattice.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceNetworkIdentifier: net.id,
      serviceIdentifier: s.id,
    }),
  );
  await lattice.send(
    new CreateListenerCommand({
      serviceIdentifier: s.id,
      name: uniqueName('https'),
      protocol: 'HTTPS',
      port,
      defaultAction: forwardTo(targetGroupId),
    }),
  );
  svc[name] = { id: s.id!, arn: s.arn!, host: s.dnsEntry!.domainName! };
}

/** An HTTP/2 session to the listener for `host`, verifying TLS against the local CA. */
function h2session(host: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = h2connect(`https://${ingress}:${port}`, { ca: localCa, servername: host });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

interface H2Answer {
  headers: IncomingHttpHeaders;
  body: string;
  trailers: IncomingHttpHeaders | undefined;
}

function h2request(
  s: ClientHttp2Session,
  headers: Record<string, string>,
  body?: Buffer | string,
): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const req = s.request(headers, { endStream: body === undefined });
    let answer: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    req.on('response', (h) => (answer = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      resolve({ headers: answer, body: Buffer.concat(chunks).toString(), trailers }),
    );
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

/** A gRPC message frame (uncompressed flag + 4-byte length + payload). */
function grpcFrame(payload: string): Buffer {
  const p = Buffer.from(payload);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(p.length, 1);
  return Buffer.concat([head, p]);
}

function accessLog(): Record<string, unknown>[] {
  const dir = join(proc.dataDir, 'logs', 'cloudwatch', encodeURIComponent(LOG_GROUP));
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
  } catch {
    return [];
  }
  return files
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

before(async () => {
  proc = await startTrellis({
    args: ['--dataplane-host', ingress],
    env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' },
  });
  lattice = proc.lattice();
  vpcId = defaultVpcId(proc.accountId);
  net = await createNetwork(lattice, vpcId);
  localCa = readFileSync(join(proc.dataDir, 'ca.pem'), 'utf8');
  ({ server: grpcTarget, port: grpcPort } = await startGrpcTarget());
  const self = selfSignedCertificate({ dnsNames: ['grpc-target.internal'] });
  const tlsTarget = await startGrpcTarget(
    grpc.ServerCredentials.createSsl(null, [
      {
        private_key: Buffer.from(self.privateKeyPem),
        cert_chain: Buffer.from(self.certificatePem),
      },
    ]),
  );
  grpcTlsTarget = tlsTarget.server;
  htmlTarget = createH2Server((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not grpc</html>');
  });
  await new Promise<void>((r) => htmlTarget.listen(0, '127.0.0.1', r));
  htmlPort = (htmlTarget.address() as { port: number }).port;
  recycler = createH2Server((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`recycled ${req.url}`);
    req.stream.session?.close();
  });
  await new Promise<void>((r) => recycler.listen(0, '127.0.0.1', r));
  h1 = await startUpstream('h1-target');

  const target = [{ id: '127.0.0.1' }];
  await httpsService('grpc', await group('GRPC', grpcPort, target));
  await httpsService('h2', await group('HTTP2', grpcPort, target));
  await httpsService('grpcs', await group('GRPC', tlsTarget.port, target, 'HTTPS'));
  await httpsService('empty', await group('GRPC', grpcPort, []));
  await httpsService('html', await group('GRPC', htmlPort, target));
  await httpsService(
    'recycle',
    await group('HTTP2', (recycler.address() as { port: number }).port, target),
  );
  await httpsService(
    'h1',
    await createTargetGroup(lattice, vpcId, h1.port, target).then((g) => g.id),
  );
  await httpsService('iam', await group('GRPC', grpcPort, target), 'AWS_IAM');
  // spec §2.3: gRPC resource = <serviceArn>/<package.Service>/<Method>; only test.Echo, signed.
  await lattice.send(
    new PutAuthPolicyCommand({
      resourceIdentifier: svc.iam!.id,
      policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${proc.accountId}:root` },
            Action: 'vpc-lattice-svcs:Invoke',
            Resource: `${svc.iam!.arn}/test.Echo/*`,
          },
        ],
      }),
    }),
  );
  await lattice.send(
    new CreateAccessLogSubscriptionCommand({
      resourceIdentifier: svc.grpc!.id,
      destinationArn: `arn:aws:logs:${proc.region}:${proc.accountId}:log-group:${LOG_GROUP}`,
    }),
  );
  // Configuration propagates asynchronously: wait until the last service answers a gRPC call.
  await waitFor(async () => (await unary(client(svc.iam!.host), 'Unary', 'x')).code === 7, {
    timeoutMs: 20_000,
    message: 'the last service never answered',
  });
});

after(async () => {
  lattice?.destroy();
  await proc?.stop();
  grpcTarget?.forceShutdown();
  grpcTlsTarget?.forceShutdown();
  htmlTarget?.close();
  recycler?.close();
  await h1?.close();
});

describe('HTTPS listeners speak HTTP/2 (spec §7.1 ALPN HTTP2Preferred)', () => {
  test('ALPN picks h2 when offered, http/1.1 when only it is offered, and no ALPN stays HTTP/1.1', async () => {
    const alpn = (protocols?: string[]): Promise<string | false> =>
      new Promise((resolve, reject) => {
        const s = tlsConnect({
          host: ingress,
          port,
          ca: localCa,
          servername: svc.grpc!.host,
          ...(protocols ? { ALPNProtocols: protocols } : {}),
        });
        s.once('secureConnect', () => {
          resolve(s.alpnProtocol ?? false);
          s.destroy();
        });
        s.once('error', reject);
      });
    assert.equal(await alpn(['h2', 'http/1.1']), 'h2');
    assert.equal(await alpn(['http/1.1']), 'http/1.1');
    assert.equal(await alpn(), false);
  });

  test('an HTTP/2 client reaches an HTTP1 target group (downgraded to HTTP/1.1)', async () => {
    const s = await h2session(svc.h1!.host);
    try {
      const r = await h2request(
        s,
        { ':method': 'POST', ':path': '/orders?x=1', 'content-type': 'text/plain' },
        'hello',
      );
      assert.equal(r.headers[':status'], 200);
      assert.ok(r.headers['x-amzn-requestid']);
      const echo = JSON.parse(r.body) as EchoBody;
      assert.equal(echo.method, 'POST');
      assert.equal(echo.url, '/orders?x=1');
      // node:http2 sends `:authority` with the port; the target gets it as Host.
      assert.equal(echo.headers.host, `${svc.h1!.host}:${port}`);
      assert.equal(echo.headers['x-forwarded-proto'], 'https');
      assert.equal(echo.headers['x-forwarded-port'], String(port));
      assert.equal(echo.headers['x-amzn-source-vpc'], vpcId);
      const seen = h1.requests.at(-1)!;
      assert.equal(seen.method, 'POST');
    } finally {
      s.close();
    }
  });

  test('an HTTP/1.1 client of a GRPC target group gets 400 (spec §7.3: error)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: ingress,
          port,
          servername: svc.grpc!.host,
          ca: localCa,
          method: 'POST',
          path: '/test.Echo/Unary',
          headers: { host: svc.grpc!.host, 'content-type': 'application/grpc' },
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 400);
  });

  test('a non-POST HTTP/2 request to a GRPC target group gets 400 (spec §7.3: POST only)', async () => {
    const s = await h2session(svc.grpc!.host);
    try {
      const r = await h2request(s, { ':method': 'GET', ':path': '/test.Echo/Unary' });
      assert.equal(r.headers[':status'], 400);
      assert.match(r.body, /not supported by the target group/);
    } finally {
      s.close();
    }
  });
});

describe('gRPC through a GRPC target group', () => {
  test('unary: payload, metadata and the forwarded headers reach the target', async () => {
    const md = new grpc.Metadata();
    md.set('x-tenant', 'blue');
    const r = await unary(client(svc.grpc!.host), 'Unary', 'ping', md);
    assert.equal(r.code, 0, r.details);
    const seen = JSON.parse(r.value!) as SeenCall;
    assert.equal(seen.payload, 'ping');
    assert.equal(seen.metadata['x-tenant'], 'blue');
    assert.equal(seen.metadata['x-forwarded-proto'], 'https');
    assert.equal(seen.metadata['x-amzn-source-vpc'], vpcId);
    assert.match(
      String(seen.metadata['x-amzn-lattice-target']),
      /TargetGroupArn=arn:aws:vpc-lattice:/,
    );
  });

  test('a target status travels back in the trailers (grpc-status, grpc-message)', async () => {
    const r = await unary(client(svc.grpc!.host), 'Fail', '');
    assert.equal(r.code, grpc.status.NOT_FOUND);
    assert.equal(r.details, 'no such parking lot');
  });

  test('server streaming and bidirectional streaming', async () => {
    const c = client(svc.grpc!.host);
    const counted = await new Promise<string[]>((resolve, reject) => {
      const got: string[] = [];
      const call = c.Count!(Buffer.from('5')) as grpc.ClientReadableStream<Buffer>;
      call.on('data', (b: Buffer) => got.push(b.toString()));
      call.on('end', () => resolve(got));
      call.on('error', reject);
    });
    assert.deepEqual(counted, ['1', '2', '3', '4', '5']);

    const chat = c.Chat!() as grpc.ClientDuplexStream<Buffer, Buffer>;
    const replies: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      chat.on('data', (b: Buffer) => {
        replies.push(b.toString());
        // Each reply arrives before the next message is sent: the stream flows both ways live.
        if (replies.length < 3) chat.write(Buffer.from(`m${replies.length + 1}`));
        else chat.end();
      });
      chat.on('end', resolve);
      chat.on('error', reject);
    });
    chat.write(Buffer.from('m1'));
    await done;
    assert.deepEqual(replies, ['echo:m1', 'echo:m2', 'echo:m3']);
  });

  test('16 MiB each way through client and server streams (flow control, backpressure)', async () => {
    const c = client(svc.grpc!.host);
    const uploaded = await new Promise<string>((resolve, reject) => {
      const call = c.Upload!((err: grpc.ServiceError | null, v?: Buffer) =>
        err ? reject(err) : resolve(v!.toString()),
      ) as grpc.ClientWritableStream<Buffer>;
      const chunk = Buffer.alloc(256 * 1024, 0x62);
      let left = 64;
      const pump = (): void => {
        while (left > 0) {
          left--;
          if (!call.write(chunk)) return void call.once('drain', pump);
        }
        call.end();
      };
      pump();
    });
    assert.equal(uploaded, String(16 * 1024 * 1024));
    const downloaded = await new Promise<number>((resolve, reject) => {
      let total = 0;
      const call = c.Download!(Buffer.from('64')) as grpc.ClientReadableStream<Buffer>;
      call.on('data', (b: Buffer) => (total += b.length));
      call.on('end', () => resolve(total));
      call.on('error', reject);
    });
    assert.equal(downloaded, 16 * 1024 * 1024);
  });

  test('an HTTPS GRPC target group: h2 over TLS, the target certificate not validated (spec §7.3)', async () => {
    const r = await unary(client(svc.grpcs!.host), 'Unary', 'over-tls');
    assert.equal(r.code, 0, r.details);
    assert.equal((JSON.parse(r.value!) as SeenCall).payload, 'over-tls');
  });

  test('an HTTP2 target group carries gRPC too (spec §7.3: OK if targets speak gRPC)', async () => {
    const r = await unary(client(svc.h2!.host), 'Unary', 'via-h2');
    assert.equal(r.code, 0, r.details);
    assert.equal((JSON.parse(r.value!) as SeenCall).payload, 'via-h2');
  });

  test('a node:http2 client sees the target’s trailers, and its trailers-only answers', async () => {
    const s = await h2session(svc.grpc!.host);
    const call = (method: string): Promise<H2Answer> =>
      h2request(
        s,
        {
          ':method': 'POST',
          ':path': `/test.Echo/${method}`,
          'content-type': 'application/grpc',
          te: 'trailers',
        },
        grpcFrame('t'),
      );
    try {
      const ok = await call('Unary');
      assert.equal(ok.headers[':status'], 200);
      assert.equal(ok.headers['content-type'], 'application/grpc+proto');
      assert.equal(ok.trailers?.['grpc-status'], '0');
      // gRPC answers an error without a body as one HEADERS frame (Trailers-Only); relayed as is.
      const failed = await call('Fail');
      assert.equal(failed.headers['grpc-status'], '5');
      assert.equal(
        decodeURIComponent(String(failed.headers['grpc-message'])),
        'no such parking lot',
      );
    } finally {
      s.close();
    }
  });
});

describe('HTTP2 target groups', () => {
  test('an HTTP2 health check (spec §5 protocolVersion HTTP2) reaches an h2c target: HEALTHY', async () => {
    const tg = await lattice.send(
      new CreateTargetGroupCommand({
        name: uniqueName('h2hc'),
        type: 'IP',
        config: {
          port: htmlPort,
          protocol: 'HTTP',
          protocolVersion: 'HTTP2',
          vpcIdentifier: vpcId,
          healthCheck: {
            enabled: true,
            protocol: 'HTTP',
            protocolVersion: 'HTTP2',
            path: '/health',
            healthCheckIntervalSeconds: 5,
            healthyThresholdCount: 2,
          },
        },
      }),
    );
    await lattice.send(
      new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets: [{ id: '127.0.0.1' }] }),
    );
    await httpsService('checked', tg.id!); // in use by a listener, so it is checked
    await waitFor(
      async () =>
        (await targetStatuses(lattice, tg.id!))[`127.0.0.1:${htmlPort}`]?.status === 'HEALTHY',
      { timeoutMs: 60_000, intervalMs: 250, message: 'the h2c target never became HEALTHY' },
    );
  });

  test('a target that closes its connections (GOAWAY) after each stream costs no request', async () => {
    const s = await h2session(svc.recycle!.host);
    try {
      // Each request races the GOAWAY of the previous one's connection.
      for (let i = 0; i < 10; i++) {
        const r = await h2request(s, { ':method': 'GET', ':path': `/one/${i}` });
        assert.equal(r.headers[':status'], 200);
        assert.equal(r.body, `recycled /one/${i}`);
      }
    } finally {
      s.close();
    }
  });
});

describe('answers the proxy gives gRPC clients are gRPC statuses', () => {
  test('no route (unknown :authority) → 404 / UNIMPLEMENTED', async () => {
    const r = await unary(client(svc.grpc!.host, 'nobody.example.com'), 'Unary', 'x');
    assert.equal(r.code, grpc.status.UNIMPLEMENTED);
    assert.match(r.details, /Non Existent Service/);
  });

  test('no healthy target → 503 / UNAVAILABLE', async () => {
    const r = await unary(client(svc.empty!.host), 'Unary', 'x');
    assert.equal(r.code, grpc.status.UNAVAILABLE);
    assert.match(r.details, /No healthy target/);
  });

  test('gRPC to an HTTP1 target group → 400 / INTERNAL (spec §7.3: error)', async () => {
    const r = await unary(client(svc.h1!.host), 'Unary', 'x');
    assert.equal(r.code, grpc.status.INTERNAL);
    assert.match(r.details, /not supported by the target group/);
  });

  test('a target that answers non-gRPC → UNAVAILABLE with what it answered', async () => {
    const r = await unary(client(svc.html!.host), 'Unary', 'x');
    assert.equal(r.code, grpc.status.UNAVAILABLE);
    assert.match(r.details, /non-gRPC.*text\/html/);
  });

  test('HTTP status and grpc-status agree on the wire (node:http2 view of a 503)', async () => {
    const s = await h2session(svc.empty!.host);
    try {
      const r = await h2request(
        s,
        {
          ':method': 'POST',
          ':path': '/test.Echo/Unary',
          'content-type': 'application/grpc',
          te: 'trailers',
        },
        grpcFrame('x'),
      );
      assert.equal(r.headers[':status'], 503);
      assert.equal(r.headers['content-type'], 'application/grpc');
      assert.equal(r.headers['grpc-status'], '14');
      assert.equal(r.headers['grpc-message'], 'No healthy target');
    } finally {
      s.close();
    }
  });
});

describe('AWS_IAM auth of gRPC calls (spec §2.2 gRPC signing, §2.3 resource path)', () => {
  /** Signs like the Lattice gRPC sample: POST https://{authority}/{Service}/{Method}, no body. */
  async function signedMetadata(path: string): Promise<grpc.Metadata> {
    const host = svc.iam!.host;
    const signed = await new SignatureV4({
      service: 'vpc-lattice-svcs',
      region: proc.region,
      credentials: proc.credentials,
      sha256: Sha256,
      uriEscapePath: false,
      applyChecksum: false,
    }).sign(
      new HttpRequest({
        method: 'POST',
        protocol: 'https:',
        hostname: host,
        path,
        headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      }),
    );
    const md = new grpc.Metadata();
    for (const name of [
      'authorization',
      'x-amz-date',
      'x-amz-content-sha256',
      'x-amz-security-token',
    ]) {
      const v = signed.headers[name];
      if (v !== undefined) md.set(name, v);
    }
    return md;
  }

  test('unsigned → 403 / PERMISSION_DENIED', async () => {
    const r = await unary(client(svc.iam!.host), 'Unary', 'x');
    assert.equal(r.code, grpc.status.PERMISSION_DENIED);
    assert.match(r.details, /AccessDeniedException/);
  });

  test('signed per the gRPC sample → allowed; the identity reaches the target', async () => {
    const r = await unary(
      client(svc.iam!.host),
      'Unary',
      'signed',
      await signedMetadata('/test.Echo/Unary'),
    );
    assert.equal(r.code, 0, r.details);
    const seen = JSON.parse(r.value!) as SeenCall;
    assert.equal(seen.payload, 'signed');
    assert.match(String(seen.metadata['x-amzn-lattice-identity']), /Principal=arn:aws:iam::/);
  });

  test('a signature for another method does not verify → 403', async () => {
    const r = await unary(
      client(svc.iam!.host),
      'Unary',
      'x',
      await signedMetadata('/test.Echo/Fail'),
    );
    assert.equal(r.code, grpc.status.PERMISSION_DENIED);
  });
});

describe('access log (spec §4.1)', () => {
  test('gRPC calls are logged with protocol HTTP/2 and grpcResponseCode', async () => {
    // The subscription propagates asynchronously: calls are repeated until their records appear.
    const c = client(svc.grpc!.host);
    const pair = await waitFor(
      async () => {
        await unary(c, 'Unary', 'logged');
        await unary(c, 'Fail', '');
        const records = accessLog();
        const h2 = records.filter((r) => r.protocol === 'HTTP/2' && r.requestMethod === 'POST');
        const a = h2.find((r) => r.requestPath === '/test.Echo/Unary');
        const b = h2.find((r) => r.requestPath === '/test.Echo/Fail');
        return a && b ? [a, b] : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, message: 'gRPC records in the log group' },
    );
    const [ok, failed] = pair!;
    assert.equal(ok!.protocol, 'HTTP/2');
    assert.equal(ok!.requestMethod, 'POST');
    assert.equal(ok!.responseCode, 200);
    assert.equal(ok!.grpcResponseCode, 0);
    assert.equal(ok!.hostHeader, svc.grpc!.host);
    assert.equal(failed!.grpcResponseCode, 5);
  });
});

describe('HTTP/2 bad input cuts off only that client', () => {
  /** A TLS connection that negotiated h2, for hand-written frames. */
  function rawH2(): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({
        host: ingress,
        port,
        ca: localCa,
        servername: svc.grpc!.host,
        ALPNProtocols: ['h2'],
      });
      s.once('secureConnect', () => {
        assert.equal(s.alpnProtocol, 'h2');
        resolve(s);
      });
      s.once('error', reject);
    });
  }
  const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
    const h = Buffer.alloc(9);
    h.writeUIntBE(payload.length, 0, 3);
    h[3] = type;
    h[4] = flags;
    h.writeUInt32BE(stream, 5);
    return Buffer.concat([h, payload]);
  }
  /** The GOAWAY error code the server sends (if it does), and the connection's close. */
  function watch(s: TLSSocket): {
    goaway: Promise<number>;
    closed: Promise<void>;
  } {
    let seen = Buffer.alloc(0);
    const goaway = new Promise<number>((resolve) => {
      s.on('data', (d: Buffer) => {
        seen = Buffer.concat([seen, d]);
        // Walk the frames the server sent (SETTINGS, ACKs, HEADERS…) looking for GOAWAY (7).
        let o = 0;
        while (seen.length - o >= 9) {
          const len = seen.readUIntBE(o, 3);
          if (seen.length - o < 9 + len) break;
          if (seen[o + 3] === 7) resolve(seen.readUInt32BE(o + 9 + 4));
          o += 9 + len;
        }
        seen = seen.subarray(o);
      });
    });
    s.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    return { goaway, closed };
  }
  async function stillServes(): Promise<void> {
    const r = await unary(client(svc.grpc!.host), 'Unary', 'alive');
    assert.equal(r.code, 0, r.details);
  }

  test('a malformed frame after the preface: GOAWAY COMPRESSION_ERROR for that client only', async () => {
    const s = await rawH2();
    const { goaway, closed } = watch(s);
    // A HEADERS frame whose block is not HPACK: a connection error (COMPRESSION_ERROR).
    s.write(
      Buffer.concat([
        PREFACE,
        frame(4, 0, 0, Buffer.alloc(0)),
        frame(1, 5, 1, Buffer.alloc(32, 0xff)),
      ]),
    );
    // nghttp2 answers GOAWAY and stops reading that connection (it is closed at its idle timeout).
    assert.equal(await goaway, h2constants.NGHTTP2_COMPRESSION_ERROR);
    s.destroy();
    await closed;
    await stillServes();
  });

  test('a rapid-reset loop (HEADERS then RST_STREAM, CVE-2023-44487) ends that session', async () => {
    const s = await rawH2();
    const { closed } = watch(s);
    // HPACK: :method POST (static 3), :scheme https (7), :path and content-type literals
    // (name indexes 4 and 31), :authority literal (index 1): a gRPC call the proxy forwards, so
    // every reset cancels real work at the target — the attack the CVE describes.
    const literal = (prefix: number[], value: string): Buffer =>
      Buffer.concat([Buffer.from([...prefix, value.length]), Buffer.from(value)]);
    const block = Buffer.concat([
      Buffer.from([0x83, 0x87]),
      literal([0x04], '/test.Echo/Unary'),
      literal([0x0f, 0x10], 'application/grpc'),
      literal([0x01], svc.grpc!.host),
    ]);
    const frames: Buffer[] = [PREFACE, frame(4, 0, 0, Buffer.alloc(0))];
    const rst = Buffer.alloc(4);
    rst.writeUInt32BE(h2constants.NGHTTP2_CANCEL);
    let id = 1;
    const burst = (): void => {
      const out: Buffer[] = [];
      for (let i = 0; i < 500 && !s.destroyed; i++, id += 2) {
        out.push(frame(1, 0x4 | 0x1, id, block), frame(3, 0, id, rst));
      }
      if (!s.destroyed && id < 200_000) s.write(Buffer.concat(out), () => setImmediate(burst));
    };
    s.write(Buffer.concat(frames));
    burst();
    // The premature-reset guard ends the session (GOAWAY, then the connection closes).
    await closed;
    assert.ok(id < 200_000, 'the server ended the session before the loop ran out');
    await stillServes();
  });
});
