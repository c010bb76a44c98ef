/**
 * The small HTTP server every sample service of the e-commerce demo is built on: it listens on
 * `HOST` and the given port (0 = any free port), prints one JSON line `{"ready":…}` with its address so
 * the demo knows where to register it, answers `/health` for Trellis's health checks, and exits
 * when its standard input closes — so a demo that dies, even by SIGKILL, leaves no server behind.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a target saw of a request: the headers VPC Lattice adds toward targets (spec §3.1). */
export interface SeenByTarget {
  identity: string | null;
  identityTags: string | null;
  sourceVpc: string | null;
  latticeTarget: string | null;
  host: string | null;
}

/** The Lattice headers of `req`, echoed back in every answer so callers can show them. */
export function seenBy(req: IncomingMessage): SeenByTarget {
  const h = (name: string): string | null => {
    const v = req.headers[name];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  };
  return {
    identity: h('x-amzn-lattice-identity'),
    identityTags: h('x-amzn-lattice-identity-tags'),
    sourceVpc: h('x-amzn-source-vpc'),
    latticeTarget: h('x-amzn-lattice-target'),
    host: h('host'),
  };
}

/** Answers `status` with a JSON body. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Reads a request body as text (sample bodies are small). */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A request handler: answers, or returns false for a 404. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;

/** Starts a sample service named `name` and announces its address on stdout. */
export function serve(name: string, port: number, handler: Handler): void {
  const host = process.env.HOST ?? '127.0.0.1';
  const server = createServer((req, res) => {
    if (req.url === '/health') return json(res, 200, { name, status: 'ok' });
    Promise.resolve(handler(req, res)).then(
      (handled) => {
        if (!handled) json(res, 404, { name, error: `no route for ${req.method} ${req.url}` });
      },
      (err: unknown) => json(res, 500, { name, error: String(err) }),
    );
  });
  server.keepAliveTimeout = 5_000;
  server.listen(port, host, () => {
    const a = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ ready: name, address: a.address, port: a.port })}\n`);
  });
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
