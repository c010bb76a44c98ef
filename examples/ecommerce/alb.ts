/**
 * A tiny Application Load Balancer stand-in: one process, one address, one HTTP listener per
 * argument `name=host:port,host:port…`, each spreading requests round robin over its backends.
 * The demo registers it in Trellis's inventory as a load balancer and targets it from ALB target
 * groups (one per listener port: v1 and v2 of Delivery), as the announcement does with a real ALB.
 *
 *   tsx examples/ecommerce/alb.ts v1=127.0.0.1:4001,127.0.0.1:4002 v2=127.0.0.1:4003
 *
 * Prints `{"ready":"alb","address":…,"listeners":{"v1":port,…}}` once every listener is up.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const host = process.env.HOST ?? '127.0.0.1';
const servers: Server[] = [];

function listener(backends: { host: string; port: number }[]): Server {
  let next = 0;
  return createServer((req, res) => {
    if (req.url === '/health') return void res.writeHead(200).end('ok');
    const b = backends[next++ % backends.length]!;
    const headers = { ...req.headers };
    // ALBs append the peer to X-Forwarded-For; everything else (the Lattice identity headers
    // included) passes through to the task unchanged.
    const peer = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = headers['x-forwarded-for']
      ? `${String(headers['x-forwarded-for'])}, ${peer}`
      : peer;
    const up = request(
      { host: b.host, port: b.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('502 Bad Gateway (alb)\n');
    });
    req.pipe(up);
  });
}

const ports: Record<string, number> = {};
for (const arg of process.argv.slice(2)) {
  const [name, list] = arg.split('=');
  if (!name || !list) throw new Error(`expected name=host:port,…, got ${arg}`);
  const backends = list.split(',').map((hp) => {
    const at = hp.lastIndexOf(':');
    return { host: hp.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(hp.slice(at + 1)) };
  });
  const server = listener(backends);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, host, r));
  ports[name] = (server.address() as AddressInfo).port;
}
process.stdout.write(`${JSON.stringify({ ready: 'alb', address: host, listeners: ports })}\n`);

const stop = (): void => {
  for (const s of servers) {
    s.close();
    s.closeAllConnections();
  }
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
