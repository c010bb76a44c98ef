/** Runs `wrk` (HTTP/1.1 keep-alive load) as a tracked child and parses its summary. */
import { spawnTracked } from './bench-kit.js';

export interface WrkOptions {
  url: string;
  host?: string;
  threads: number;
  connections: number;
  durationSeconds: number;
}

export interface WrkResult {
  requestsPerSecond: number;
  requests: number;
  /** Responses that were not 2xx/3xx, and socket errors (both must be 0 for a valid run). */
  non2xx: number;
  socketErrors: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  command: string;
}

/** The exact command line (for RESULTS.md). */
export function wrkArgs(o: WrkOptions): string[] {
  return [
    `-t${o.threads}`,
    `-c${o.connections}`,
    `-d${o.durationSeconds}s`,
    '--latency',
    ...(o.host ? ['-H', `Host: ${o.host}`] : []),
    o.url,
  ];
}

export function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = wrkArgs(o);
  const child = spawnTracked('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // Bounded: wrk stops itself after the duration; kill it if it hangs well past that.
  const timer = setTimeout(() => child.kill('SIGKILL'), (o.durationSeconds + 30) * 1000);
  return new Promise((res, rej) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return rej(new Error(`wrk exited with ${code}: ${out}`));
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      if (!rps) return rej(new Error(`cannot parse wrk output: ${out}`));
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const socketErrors = errs ? errs.slice(1).reduce((s, v) => s + Number(v), 0) : 0;
      res({
        requestsPerSecond: Number(rps[1]),
        requests,
        non2xx,
        socketErrors,
        latencyP50Ms: latency(out, '50%'),
        latencyP99Ms: latency(out, '99%'),
        command: `wrk ${args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`,
      });
    });
  });
}

function latency(out: string, label: string): number {
  const m = new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)`).exec(out);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}
