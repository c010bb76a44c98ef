// A closed-loop load client for bench/http2.ts, run in a worker thread (h2load is not installed on
// the bench host): `concurrency` requests in flight, spread over `connections` connections, for
// `durationMs`; counts completed requests and failures. Modes: `h1` (HTTPS keep-alive, one request
// per connection at a time, like wrk), `h2` (GET over HTTP/2 streams), `grpc` (unary gRPC calls
// as HTTP/2 POSTs with a 5-byte-framed message; success = trailer grpc-status 0).
import { connect } from 'node:http2';
import { Agent, request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { parentPort, workerData } from 'node:worker_threads';

const { mode, port, host, ca, path, connections, concurrency, durationMs } = workerData;
const deadline = Date.now() + durationMs;
let ok = 0;
let failed = 0;

const frame = (() => {
  const payload = Buffer.from('ping');
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
})();

function h2Loop(session) {
  return new Promise((resolve) => {
    const next = () => {
      if (Date.now() >= deadline || session.destroyed) return resolve();
      const grpc = mode === 'grpc';
      const req = session.request(
        grpc
          ? {
              ':method': 'POST',
              ':path': path,
              ':authority': host,
              'content-type': 'application/grpc',
              te: 'trailers',
            }
          : { ':method': 'GET', ':path': path, ':authority': host },
        { endStream: !grpc },
      );
      let status = 0;
      let grpcStatus = grpc ? undefined : '0';
      req.on('response', (h) => {
        status = h[':status'];
        if (h['grpc-status'] !== undefined) grpcStatus = h['grpc-status'];
      });
      req.on('trailers', (t) => (grpcStatus = t['grpc-status']));
      req.on('data', () => undefined);
      req.on('end', () => {
        if (status === 200 && grpcStatus === '0') ok++;
        else failed++;
        next();
      });
      req.on('error', () => {
        failed++;
        next();
      });
      if (grpc) req.end(frame);
    };
    next();
  });
}

async function runH2() {
  const sessions = await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise((resolve, reject) => {
          const s = connect(`https://127.0.0.1:${port}`, {
            createConnection: () => {
              const socket = tlsConnect({
                host: '127.0.0.1',
                port,
                ca,
                servername: host,
                ALPNProtocols: ['h2'],
              });
              socket.setNoDelay(true);
              return socket;
            },
          });
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        }),
    ),
  );
  const loops = [];
  for (let i = 0; i < concurrency; i++) loops.push(h2Loop(sessions[i % sessions.length]));
  await Promise.all(loops);
  for (const s of sessions) s.close();
}

async function runH1() {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca, servername: host });
  const loop = () =>
    new Promise((resolve) => {
      const next = () => {
        if (Date.now() >= deadline) return resolve();
        const req = request(
          { host: '127.0.0.1', port, path, agent, servername: host, headers: { host } },
          (res) => {
            res.on('data', () => undefined);
            res.on('end', () => {
              if (res.statusCode === 200) ok++;
              else failed++;
              next();
            });
          },
        );
        req.on('error', () => {
          failed++;
          next();
        });
        req.end();
      };
      next();
    });
  await Promise.all(Array.from({ length: concurrency }, loop));
  agent.destroy();
}

const started = Date.now();
await (mode === 'h1' ? runH1() : runH2());
parentPort.postMessage({ ok, failed, seconds: (Date.now() - started) / 1000 });
