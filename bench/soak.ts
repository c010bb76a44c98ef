/**
 * Memory over a long run at full load (issue 7: "memory stays flat over a 10-minute run at full
 * load"). One data-plane process with everything `trellis up` runs on the monitoring side —
 * access logs of every request to a CloudWatch-style file subscription, §4.2 metrics (scraped
 * every 10 s, as Prometheus would), usage metering — behind one upstream, driven by `wrk` with
 * keep-alive connections for the whole run. Every 10 s the proxy reports its RSS and its heap
 * after a full GC (`--expose-gc`), so the heap figure is what is retained, not garbage waiting.
 *
 *   node --import tsx bench/soak.ts [--minutes 10] [--connections 32] [--sample-seconds 10]
 *
 * Growth is judged on the samples after the first minute (warm-up: JIT, pools, buffers filling):
 * the least-squares slope of the retained heap and of RSS in MiB per minute, and last − first.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runWrk } from './support/wrk.js';

const self = fileURLToPath(import.meta.url);
const role = process.env.BENCH_ROLE;
const MiB = 1024 * 1024;

function upstream(): void {
  const body = Buffer.from('{"ok":true,"pad":"' + 'x'.repeat(200) + '"}');
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () =>
    process.send!({ port: (server.address() as { port: number }).port }),
  );
}

async function proxy(upPort: number, dataDir: string): Promise<void> {
  const { SnapshotBuilder, TestSnapshotSource, forward } =
    await import('../src/dataplane/test-support/snapshot-builder.js');
  const { createDataPlane } = await import('../src/dataplane/index.js');
  const { createMonitoring } = await import('../src/observability/index.js');
  const { DEFAULT_MONITORING_SETTINGS } = await import('../src/config/monitoring-settings.js');
  const b = new SnapshotBuilder();
  const ingress = `127.79.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const port = 20_000 + Math.floor(Math.random() * 30_000);
  const vpc = b.vpc([ingress]);
  const net = b.network();
  b.associateVpc(net, vpc);
  const svc = b.service();
  b.associateService(net, svc);
  const tg = b.targetGroup('IP', { port: upPort });
  b.target(tg, '127.0.0.1');
  b.listener(svc, port, forward(tg));
  const base = b.build();
  const snapshot = {
    ...base,
    accessLogSubscriptions: [
      {
        id: 'als-00000000000000soak',
        arn: `arn:aws:vpc-lattice:${b.region}:${b.account}:accesslogsubscription/als-00000000000000soak`,
        resourceId: svc,
        resourceArn: b.serviceArnOf(svc),
        destinationArn: `arn:aws:logs:${b.region}:${b.account}:log-group:/bench/soak`,
        createdAt: '',
        lastUpdatedAt: '',
        accountId: b.account,
      },
    ],
  };
  const source = new TestSnapshotSource();
  source.push(snapshot);
  const plane = createDataPlane({ snapshotSource: source });
  await plane.start();
  // Rotation keeps the disk bounded over a long run (5 × 16 MiB per group).
  const monitoring = createMonitoring({
    dataDir,
    settings: { ...DEFAULT_MONITORING_SETTINGS, rotateBytes: 16 * MiB, keepFiles: 5 },
    usageSink: { addUsage: async () => {} },
  });
  monitoring.start();
  monitoring.update(snapshot);
  plane.onRequestComplete = monitoring.hook;
  monitoring.metrics!.connections = plane.counters;
  process.on('message', (m) => {
    if (m !== 'sample') return;
    void (async () => {
      const { body } = await monitoring.metrics!.render(); // a Prometheus scrape
      global.gc?.();
      const mem = process.memoryUsage();
      process.send!({ rss: mem.rss, heap: mem.heapUsed, scrapeBytes: body.length });
    })();
  });
  process.send!({ port, address: ingress, host: b.hostOf(svc) });
}

interface Info {
  port: number;
  address?: string;
  host?: string;
}

function spawn(
  roleName: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; info: Info }> {
  return new Promise((resolve) => {
    const child = fork(self, [], {
      env: { ...process.env, BENCH_ROLE: roleName, ...env },
      execArgv: ['--import', 'tsx', '--expose-gc'],
    });
    child.once('message', (info) => resolve({ child, info: info as Info }));
  });
}

function sample(child: ChildProcess): Promise<{ rss: number; heap: number; scrapeBytes: number }> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as { rss: number; heap: number; scrapeBytes: number }));
    child.send('sample');
  });
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      connections: { type: 'string', default: '32' },
      'sample-seconds': { type: 'string', default: '10' },
    },
  });
  const minutes = Number(values.minutes);
  const connections = Number(values.connections);
  const every = Number(values['sample-seconds']);
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-soak-'));
  const up = await spawn('upstream');
  const px = await spawn('proxy', { UP_PORT: String(up.info.port), DATA_DIR: dataDir });
  const { address, port, host } = px.info;
  console.log(
    `soak: ${minutes} min, ${connections} keep-alive connections (wrk), sample every ${every} s`,
  );
  console.log(`node ${process.version}; logs + metrics + usage on; proxy ${address}:${port}`);
  const samples: { t: number; rss: number; heap: number }[] = [];
  const started = Date.now();
  const first = await sample(px.child);
  samples.push({ t: 0, rss: first.rss, heap: first.heap });
  console.log(
    `  t=   0s  rss ${(first.rss / MiB).toFixed(1)} MiB  heap ${(first.heap / MiB).toFixed(1)} MiB (idle)`,
  );
  const load = runWrk({
    url: `http://${address}:${port}/soak`,
    host,
    threads: 1,
    connections,
    durationSeconds: minutes * 60,
  });
  let done = false;
  void load.finally(() => (done = true));
  while (!done) {
    await new Promise((r) => setTimeout(r, every * 1000));
    if (done) break;
    const s = await sample(px.child);
    const t = (Date.now() - started) / 1000;
    samples.push({ t, rss: s.rss, heap: s.heap });
    console.log(
      `  t=${t.toFixed(0).padStart(4)}s  rss ${(s.rss / MiB).toFixed(1)} MiB  heap ${(s.heap / MiB).toFixed(1)} MiB  scrape ${s.scrapeBytes} B`,
    );
  }
  const result = await load;
  const steady = samples.filter((s) => s.t >= 60);
  const ts = steady.map((s) => s.t / 60);
  const heapSlope = slope(
    ts,
    steady.map((s) => s.heap / MiB),
  );
  const rssSlope = slope(
    ts,
    steady.map((s) => s.rss / MiB),
  );
  const a = steady[0];
  const z = steady[steady.length - 1];
  console.log(
    `\nload: ${result.requestsPerSecond.toFixed(0)} req/s, ${result.requests} requests, non-2xx ${result.non2xx}, socket errors ${result.socketErrors}`,
  );
  console.log(`      ${result.command}`);
  if (a && z) {
    console.log(
      `after warm-up (t ≥ 60 s, ${steady.length} samples): heap ${(a.heap / MiB).toFixed(1)} → ${(z.heap / MiB).toFixed(1)} MiB (slope ${heapSlope.toFixed(3)} MiB/min), rss ${(a.rss / MiB).toFixed(1)} → ${(z.rss / MiB).toFixed(1)} MiB (slope ${rssSlope.toFixed(3)} MiB/min)`,
    );
    const maxHeap = Math.max(...steady.map((s) => s.heap)) / MiB;
    const maxRss = Math.max(...steady.map((s) => s.rss)) / MiB;
    console.log(`max after warm-up: heap ${maxHeap.toFixed(1)} MiB, rss ${maxRss.toFixed(1)} MiB`);
  }
  up.child.kill();
  px.child.kill();
  rmSync(dataDir, { recursive: true, force: true });
}

if (role === 'upstream') upstream();
else if (role === 'proxy') void proxy(Number(process.env.UP_PORT), process.env.DATA_DIR!);
else await main();
