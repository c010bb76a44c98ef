import {
  createServer,
  request,
  type IncomingHttpHeaders,
  type Server,
  type Agent,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** A random loopback address 127.x.y.z (x ≥ 100 to stay clear of 127.0.0.1), so suites never collide. */
export function randomLoopback(): string {
  const r = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));
  return `127.${r(100, 254)}.${r(0, 255)}.${r(1, 254)}`;
}

/** A random high port for a listener on a random loopback address. */
export function randomPort(): number {
  return 20_000 + Math.floor(Math.random() * 40_000);
}

/** What the echo upstream saw. */
export interface EchoBody {
  name: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

export interface Upstream {
  name: string;
  address: string;
  port: number;
  server: Server;
  hits: number;
  close(): Promise<void>;
}

/**
 * An upstream that answers every request with a JSON echo of what it received, tagged with its
 * name. `handler` can take over a request (return true when it did).
 */
export async function startUpstream(
  name: string,
  host = '127.0.0.1',
  handler?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Promise<Upstream> {
  const up: Upstream = {
    name,
    address: host,
    port: 0,
    server: undefined as unknown as Server,
    hits: 0,
    close: async () => {
      up.server.closeAllConnections();
      await new Promise<void>((r) => up.server.close(() => r()));
    },
  };
  up.server = createServer((req, res) => {
    up.hits += 1;
    if (handler?.(req, res)) return;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const echo: EchoBody = {
        name,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString(),
      };
      const text = JSON.stringify(echo);
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => up.server.listen(0, host, resolve));
  up.port = (up.server.address() as AddressInfo).port;
  return up;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Sends one request with node:http and collects the answer. */
export function send(
  address: string,
  port: number,
  opts: {
    host?: string;
    method?: string;
    path?: string;
    headers?: Record<string, string | string[]>;
    body?: string;
    agent?: Agent | false;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address,
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: { ...(opts.host !== undefined ? { host: opts.host } : {}), ...opts.headers },
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends raw bytes on a fresh TCP connection and returns everything the server wrote before closing. */
export async function sendRaw(
  address: string,
  port: number,
  bytes: string | Buffer,
  waitMs = 3000,
): Promise<string> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: address, port }, () => socket.write(bytes));
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', done);
    socket.on('error', done);
  });
}
