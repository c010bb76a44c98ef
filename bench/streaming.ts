/**
 * Streamed bodies through `trellis up` with bounded memory: a 1 GiB upload (HTTP listener, fast
 * path; and HTTPS listener), and a 1 GiB download, each generated on the fly and counted at the
 * other end. The proxy's resident memory (VmRSS of the `trellis up` process, sampled every 100 ms
 * from /proc) is reported as growth over its value just before each transfer; target: < 64 MiB.
 * Run: `npx tsx bench/streaming.ts`. Knobs: BENCH_STREAM_MIB (1024).
 */
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  CreateListenerCommand,
  CreateServiceCommand,
  CreateServiceNetworkCommand,
  CreateServiceNetworkServiceAssociationCommand,
  CreateServiceNetworkVpcAssociationCommand,
  CreateTargetGroupCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-vpc-lattice';
import { defaultVpcId } from '../test/support/sdk-helpers.js';
import { startTrellis } from '../test/support/trellis-process.js';
import { fmt, freePort, sleep, trackTrellis } from './support/bench-kit.js';

const MIB = 1024 * 1024;
const TOTAL_MIB = Number(process.env.BENCH_STREAM_MIB ?? 1024);

/** Origin: `/count` counts an upload; `/download?mib=N` sends N MiB. */
const origin = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/download') {
    const total = Number(url.searchParams.get('mib') ?? '1') * MIB;
    const chunk = Buffer.alloc(MIB, 0x61);
    res.writeHead(200, { 'content-length': String(total) });
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
  let n = 0;
  req.on('data', (c: Buffer) => (n += c.length));
  req.on('end', () => res.end(String(n)));
});
await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
const originPort = (origin.address() as AddressInfo).port;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) / 1024;
}

/** Samples the proxy's RSS while `work` runs; returns before, peak and the work's result. */
async function watchMemory<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ before: number; peak: number; result: T; seconds: number }> {
  const before = rssMiB(pid);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 100);
  const started = Date.now();
  try {
    const result = await work();
    peak = Math.max(peak, rssMiB(pid));
    return { before, peak, result, seconds: (Date.now() - started) / 1000 };
  } finally {
    clearInterval(timer);
  }
}

const proc = trackTrellis(
  await startTrellis({
    args: ['--dataplane-host', '127.0.0.1'],
    env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' },
  }),
);
const pid = proc.child.pid!;
try {
  const lattice = proc.lattice();
  const vpcId = defaultVpcId(proc.accountId);
  const sn = await lattice.send(new CreateServiceNetworkCommand({ name: 'bench-stream' }));
  await lattice.send(
    new CreateServiceNetworkVpcAssociationCommand({
      serviceNetworkIdentifier: sn.id,
      vpcIdentifier: vpcId,
    }),
  );
  const svc = await lattice.send(new CreateServiceCommand({ name: 'bench-stream' }));
  const host = svc.dnsEntry!.domainName!;
  await lattice.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceNetworkIdentifier: sn.id,
      serviceIdentifier: svc.id,
    }),
  );
  const tg = await lattice.send(
    new CreateTargetGroupCommand({
      name: 'bench-stream-origin',
      type: 'IP',
      config: {
        port: originPort,
        protocol: 'HTTP',
        protocolVersion: 'HTTP1',
        vpcIdentifier: vpcId,
        healthCheck: { enabled: false },
      },
    }),
  );
  await lattice.send(
    new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets: [{ id: '127.0.0.1' }] }),
  );
  const httpPort = await freePort();
  const httpsPort = await freePort();
  for (const [protocol, port] of [
    ['HTTP', httpPort],
    ['HTTPS', httpsPort],
  ] as const)
    await lattice.send(
      new CreateListenerCommand({
        serviceIdentifier: svc.id,
        name: protocol.toLowerCase(),
        protocol,
        port,
        defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: tg.id }] } },
      }),
    );
  lattice.destroy();
  const ca = readFileSync(join(proc.dataDir, 'ca.pem'), 'utf8');

  const send = (
    tls: boolean,
    options: { method: string; path: string; headers: Record<string, string> },
    onResponse: (res: IncomingMessage) => void,
  ): ReturnType<typeof httpRequest> => {
    const base = {
      host: '127.0.0.1',
      port: tls ? httpsPort : httpPort,
      ...options,
      headers: { ...options.headers, host },
      agent: false as const,
    };
    return tls
      ? httpsRequest({ ...base, ca, servername: host }, onResponse)
      : httpRequest(base, onResponse);
  };
  const upload = (tls: boolean, mib: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const chunk = Buffer.alloc(MIB, 0x5a);
      const req = send(
        tls,
        { method: 'POST', path: '/count', headers: { 'content-length': String(mib * MIB) } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(Number(text)));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = (): void => {
        while (sent < mib) {
          sent++;
          if (sent === mib) return void req.end(chunk);
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
      };
      pump();
    });
  const download = (mib: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = send(
        false,
        { method: 'GET', path: `/download?mib=${mib}`, headers: {} },
        (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => (n += c.length));
          res.on('end', () => resolve(n));
        },
      );
      req.on('error', reject);
      req.end();
    });

  // Converged once a small upload goes through both listeners.
  for (let i = 0; i < 200; i++) {
    const ok = await Promise.all([upload(false, 1), upload(true, 1)]).then(
      (r) => r.every((n) => n === MIB),
      () => false,
    );
    if (ok) break;
    await sleep(50);
  }

  const rows: Record<string, unknown>[] = [];
  for (const [name, work] of [
    ['upload over HTTP (fast path)', () => upload(false, TOTAL_MIB)],
    ['upload over HTTPS', () => upload(true, TOTAL_MIB)],
    ['download over HTTP (fast path)', () => download(TOTAL_MIB)],
    // Again, warm: the first transfer's growth includes the process's own warm-up (heap, pools).
    ['upload over HTTP (fast path), again', () => upload(false, TOTAL_MIB)],
  ] as const) {
    const r = await watchMemory(pid, work);
    if (r.result !== TOTAL_MIB * MIB) throw new Error(`${name}: ${r.result} bytes arrived`);
    const row = {
      transfer: name,
      mib: TOTAL_MIB,
      seconds: Number(fmt(r.seconds)),
      mibPerSecond: Number(fmt(TOTAL_MIB / r.seconds, 0)),
      rssBeforeMiB: Number(fmt(r.before, 1)),
      rssPeakMiB: Number(fmt(r.peak, 1)),
      growthMiB: Number(fmt(r.peak - r.before, 1)),
      target: 'growth < 64 MiB',
      meets: r.peak - r.before < 64,
    };
    rows.push(row);
    console.error(
      `${name}: ${TOTAL_MIB} MiB in ${fmt(r.seconds)} s; proxy RSS ${fmt(r.before, 1)} → peak ${fmt(r.peak, 1)} MiB (growth ${fmt(r.peak - r.before, 1)} MiB)`,
    );
  }
  console.log(JSON.stringify({ node: process.version, rows }, null, 2));
} finally {
  await proc.stop();
  origin.closeAllConnections();
  origin.close();
}
