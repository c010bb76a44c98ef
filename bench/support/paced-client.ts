/**
 * A small paced HTTP/1.1 client for latency at a moderate, fixed rate: `connections` keep-alive
 * sockets, one request in flight per socket, a new request every 1/rate seconds on an idle socket.
 * Latency runs from the write of the request to the last byte of the response. Raw sockets keep
 * the client's own cost (and its share of the CPU) small and the same for every system measured.
 */
import { connect, type Socket } from 'node:net';

export interface PacedOptions {
  address: string;
  port: number;
  host: string;
  /** Requests per second. */
  rate: number;
  /** Measured requests; a warm-up of `rate / 2` requests runs first and is not recorded. */
  requests: number;
  connections: number;
  /** Upper bound on the whole run (warm-up included). */
  timeoutMs: number;
}

export interface PacedResult {
  latenciesMs: number[];
  /** Ticks at which every socket was still busy (the request was sent late). */
  late: number;
  errors: number;
  badStatus: number;
}

class Conn {
  busy = false;
  sentAt = 0;
  buf = '';
  constructor(readonly socket: Socket) {}
}

export async function pacedRun(o: PacedOptions): Promise<PacedResult> {
  const requestBytes = Buffer.from(
    `GET / HTTP/1.1\r\nHost: ${o.host}\r\nUser-Agent: trellis-bench\r\n\r\n`,
  );
  const warmup = Math.ceil(o.rate / 2);
  const total = warmup + o.requests;
  const latenciesMs: number[] = [];
  let sent = 0;
  let completed = 0;
  let late = 0;
  let errors = 0;
  let badStatus = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));

  const conns: Conn[] = await Promise.all(
    Array.from(
      { length: o.connections },
      () =>
        new Promise<Conn>((res, rej) => {
          const s = connect({ host: o.address, port: o.port, noDelay: true });
          s.once('connect', () => res(new Conn(s)));
          s.once('error', rej);
        }),
    ),
  );
  const idle: Conn[] = [...conns];
  for (const c of conns) {
    c.socket.setEncoding('latin1');
    c.socket.on('data', (chunk: string) => {
      c.buf += chunk;
      const headEnd = c.buf.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const m = /content-length:\s*(\d+)/i.exec(c.buf.slice(0, headEnd));
      const length = m ? Number(m[1]) : 0;
      if (c.buf.length < headEnd + 4 + length) return;
      const status = Number(c.buf.slice(9, 12));
      c.buf = c.buf.slice(headEnd + 4 + length);
      const ms = Number(process.hrtime.bigint() - BigInt(c.sentAt)) / 1e6;
      completed++;
      if (status !== 200) badStatus++;
      if (completed > warmup) latenciesMs.push(ms);
      c.busy = false;
      idle.push(c);
      if (completed >= total) finish();
    });
    c.socket.on('error', () => {
      errors++;
      finish();
    });
  }

  const send = (): boolean => {
    const c = idle.pop();
    if (c === undefined) return false;
    c.busy = true;
    c.sentAt = Number(process.hrtime.bigint());
    c.socket.write(requestBytes);
    sent++;
    return true;
  };

  const started = performance.now();
  const intervalMs = 1000 / o.rate;
  let backlog = 0;
  const timer = setInterval(() => {
    // Catch up on the schedule: timers fire at ~1 ms granularity, requests are due every 1/rate.
    const due = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1);
    backlog = due - sent;
    while (backlog > 0 && sent < total) {
      if (!send()) {
        late++;
        break;
      }
      backlog--;
    }
    if (performance.now() - started > o.timeoutMs) finish();
  }, 1);
  await done;
  clearInterval(timer);
  for (const c of conns) c.socket.destroy();
  return { latenciesMs, late, errors, badStatus };
}
