/**
 * What monitoring costs the data plane: requests/s through the Trellis data plane with
 *   off      no onRequestComplete hook (the data plane builds no record at all)
 *   metrics  §4.2 metrics only
 *   logs     access logs of every request to a CloudWatch-style file subscription only
 *   all      logs + metrics + usage metering (what `trellis up` runs)
 * One process per mode, keep-alive clients (undici Pool), interleaved rounds, median reported,
 * plus each process's RSS after the runs (memory must stay flat).
 *
 *   node --import tsx bench/monitoring.ts [seconds=5] [connections=32] [rounds=3]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';

const self = fileURLToPath(import.meta.url);
const role = process.env.BENCH_ROLE;
const MODES = ['off', 'metrics', 'logs', 'all'] as const;
type Mode = (typeof MODES)[number];

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

async function trellis(upPort: number, mode: Mode, dataDir: string): Promise<void> {
  const { SnapshotBuilder, TestSnapshotSource, forward } =
    await import('../src/dataplane/test-support/snapshot-builder.js');
  const { createDataPlane } = await import('../src/dataplane/index.js');
  const { createMonitoring } = await import('../src/observability/index.js');
  const { DEFAULT_MONITORING_SETTINGS } = await import('../src/config/monitoring-settings.js');
  const b = new SnapshotBuilder();
  const ingress = `127.78.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
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
        id: 'als-0000000000000bench',
        arn: `arn:aws:vpc-lattice:${b.region}:${b.account}:accesslogsubscription/als-0000000000000bench`,
        resourceId: svc,
        resourceArn: b.serviceArnOf(svc),
        destinationArn: `arn:aws:logs:${b.region}:${b.account}:log-group:/bench/${mode}`,
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
  if (mode !== 'off') {
    const monitoring = createMonitoring({
      dataDir,
      settings: {
        ...DEFAULT_MONITORING_SETTINGS,
        metrics: mode === 'metrics' || mode === 'all',
        accessLogs: mode === 'logs' || mode === 'all',
        usage: mode === 'all',
      },
      usageSink: { addUsage: async () => {} },
    });
    monitoring.start();
    monitoring.update(snapshot);
    plane.onRequestComplete = monitoring.hook;
  }
  process.on('message', (m) => {
    if (m === 'mem') {
      global.gc?.();
      const cpu = process.cpuUsage();
      process.send!({
        rss: process.memoryUsage().rss,
        heap: process.memoryUsage().heapUsed,
        cpuUs: cpu.user + cpu.system,
      });
    }
  });
  process.send!({ port, address: ingress, host: b.hostOf(svc) });
}

interface Child {
  child: ChildProcess;
  info: { port: number; address?: string; host?: string };
}

function spawn(roleName: string, env: Record<string, string> = {}): Promise<Child> {
  return new Promise((resolve) => {
    const child = fork(self, [], {
      env: { ...process.env, BENCH_ROLE: roleName, ...env },
      execArgv: ['--import', 'tsx', '--expose-gc'],
    });
    child.once('message', (info) => resolve({ child, info: info as Child['info'] }));
  });
}

function ask<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send(message);
  });
}

async function load(
  address: string,
  port: number,
  host: string,
  seconds: number,
  connections: number,
): Promise<{ rate: number; done: number }> {
  const pool = new Pool(`http://${address}:${port}`, { connections, pipelining: 1 });
  let done = 0;
  let running = true;
  const worker = async (): Promise<void> => {
    while (running) {
      const r = await request(`http://${address}:${port}/bench`, {
        dispatcher: pool,
        headers: { host },
      });
      await r.body.dump();
      if (r.statusCode === 200) done += 1;
    }
  };
  const warm = Date.now() + 1000;
  while (Date.now() < warm) {
    const r = await request(`http://${address}:${port}/`, { dispatcher: pool, headers: { host } });
    await r.body.dump();
  }
  const started = process.hrtime.bigint();
  const workers = Array.from({ length: connections }, worker);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  running = false;
  await Promise.all(workers);
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  await pool.close();
  return { rate: done / secs, done };
}

function dirBytes(dir: string): number {
  let n = 0;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
      if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size;
  } catch {
    // no logs written
  }
  return n;
}

/** ns per call of each hook on a realistic record, in this process (no sockets involved). */
async function hookMicrobench(dataDir: string): Promise<void> {
  const { createMonitoring } = await import('../src/observability/index.js');
  const { DEFAULT_MONITORING_SETTINGS } = await import('../src/config/monitoring-settings.js');
  const { RequestRecord } = await import('../src/dataplane/request-record.js');
  const svc = 'arn:aws:vpc-lattice:us-west-2:111122223333:service/svc-0123456789abcdef0';
  const snapshotLike = {
    revision: 1,
    region: 'us-west-2',
    partition: 'aws',
    serviceNetworks: [],
    services: [],
    listeners: [],
    rules: [],
    targetGroups: [],
    targets: [],
    serviceNetworkServiceAssociations: [],
    serviceNetworkVpcAssociations: [],
    authPolicies: [],
    accessLogSubscriptions: [
      {
        id: 'als-micro',
        arn: 'arn',
        resourceId: 'svc-0123456789abcdef0',
        resourceArn: svc,
        destinationArn: 'arn:aws:logs:us-west-2:111122223333:log-group:/bench/micro',
        createdAt: '',
        lastUpdatedAt: '',
        accountId: '111122223333',
      },
    ],
    vpcs: [],
    instances: [],
    loadBalancers: [],
    accounts: [],
    users: [],
    roles: [],
    accessKeys: [],
  };
  const r = new RequestRecord(
    Date.now(),
    '127.0.0.1:40000',
    'GET',
    '/bench',
    'HTTP/1.1',
    'svc.example',
    'undici',
  );
  r.requestId = '0f8fad5b-d9cb-469f-a165-70867728950e';
  r.serviceArn = svc;
  r.serviceNetworkArn =
    'arn:aws:vpc-lattice:us-west-2:111122223333:servicenetwork/sn-0123456789abcdef0';
  r.targetGroupArn = 'arn:aws:vpc-lattice:us-west-2:111122223333:targetgroup/tg-0123456789abcdef0';
  r.targetIpPort = '127.0.0.1:8080';
  r.responseCode = 200;
  r.duration = 3;
  r.traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  r.spanId = '00f067aa0ba902b7';
  r.traceFlags = 1;
  // `spans`: metrics + OTLP/HTTP span export to a local endpoint that accepts every batch.
  const collector = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((ok) => collector.listen(0, '127.0.0.1', () => ok()));
  const { createOtlpSpanExport } = await import('../src/observability/otlp-span-export.js');
  for (const mode of ['metrics', 'logs', 'all', 'spans'] as const) {
    const spans =
      mode === 'spans'
        ? createOtlpSpanExport({
            endpoint: `http://127.0.0.1:${(collector.address() as { port: number }).port}/v1/traces`,
            serviceName: 'bench',
            logger: { info() {}, warn() {}, error() {} },
          })
        : undefined;
    const m = createMonitoring({
      dataDir,
      settings: {
        ...DEFAULT_MONITORING_SETTINGS,
        metrics: mode !== 'logs',
        accessLogs: mode === 'logs' || mode === 'all',
        usage: mode === 'all',
      },
      usageSink: { addUsage: async () => {} },
      ...(spans ? { spans } : {}),
    });
    m.update(snapshotLike);
    const hook = m.hook!;
    const n = 200_000;
    for (let i = 0; i < 20_000; i++) hook(r);
    await m.flush();
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      hook(r);
      // Buffers stay bounded and the write/export cost is counted (the span queue holds 2 048).
      if ((i & (mode === 'spans' ? 1023 : 4095)) === 0) await m.flush();
    }
    await m.flush();
    const ns = Number(process.hrtime.bigint() - t0) / n;
    const cpu = process.cpuUsage(c0);
    const cpuNs = ((cpu.user + cpu.system) * 1000) / n;
    console.log(
      `hook ${mode.padEnd(8)} ${ns.toFixed(0).padStart(6)} ns/request wall, ${cpuNs.toFixed(0).padStart(6)} ns CPU (all threads; formatting, buffering and file writes included)`,
    );
    await m.stop();
  }
  collector.close();
}

async function main(): Promise<void> {
  if (process.env.BENCH_HOOK_ONLY) {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-monitoring-'));
    await hookMicrobench(dir);
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const seconds = Number(process.argv[2] ?? 5);
  const connections = Number(process.argv[3] ?? 32);
  const rounds = Number(process.argv[4] ?? 3);
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-bench-monitoring-'));
  const up = await spawn('upstream');
  const planes = new Map<Mode, Child>();
  for (const mode of MODES)
    planes.set(
      mode,
      await spawn('trellis', { UP_PORT: String(up.info.port), MODE: mode, DATA_DIR: dataDir }),
    );
  const runs = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
  /** CPU µs the data-plane process spent per request served (robust on a shared machine). */
  const cpuPerRequest = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
  const rssStart = new Map<Mode, number>();
  for (const mode of MODES)
    rssStart.set(mode, (await ask<{ rss: number }>(planes.get(mode)!.child, 'mem')).rss);
  // Interleaved rounds, median reported: the machine is shared, so load drifts between runs.
  for (let r = 0; r < rounds; r++) {
    for (const mode of MODES) {
      const p = planes.get(mode)!.info;
      const child = planes.get(mode)!.child;
      const before = await ask<{ cpuUs: number }>(child, 'mem');
      const { rate, done } = await load(p.address!, p.port, p.host!, seconds, connections);
      const after = await ask<{ cpuUs: number }>(child, 'mem');
      runs.get(mode)!.push(rate);
      // The 1 s warm-up is in the CPU figure too; its requests are few next to the run's.
      cpuPerRequest.get(mode)!.push((after.cpuUs - before.cpuUs) / done);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const off = median(runs.get('off')!);
  const offCpu = median(cpuPerRequest.get('off')!);
  console.log(
    `${seconds}s × ${rounds} rounds, ${connections} keep-alive connections, node ${process.version}`,
  );
  for (const mode of MODES) {
    const v = median(runs.get(mode)!);
    const mem = await ask<{ rss: number; heap: number }>(planes.get(mode)!.child, 'mem');
    console.log(
      `${mode.padEnd(8)} ${v.toFixed(0).padStart(7)} req/s  ${(((v - off) / off) * 100).toFixed(1).padStart(6)}% vs off  cpu ${median(cpuPerRequest.get(mode)!).toFixed(1).padStart(6)} µs/req (${(((median(cpuPerRequest.get(mode)!) - offCpu) / offCpu) * 100).toFixed(1)}%)  runs ${runs
        .get(mode)!
        .map((x) => x.toFixed(0))
        .join(
          ' ',
        )}  rss ${(rssStart.get(mode)! / 2 ** 20).toFixed(0)}→${(mem.rss / 2 ** 20).toFixed(0)} MiB  heap ${(mem.heap / 2 ** 20).toFixed(0)} MiB`,
    );
  }
  await hookMicrobench(dataDir);
  console.log(`log files written: ${(dirBytes(join(dataDir, 'logs')) / 2 ** 20).toFixed(0)} MiB`);
  for (const c of [...planes.values(), up]) c.child.kill();
  rmSync(dataDir, { recursive: true, force: true });
}

if (role === 'upstream') upstream();
else if (role === 'trellis')
  void trellis(Number(process.env.UP_PORT), process.env.MODE as Mode, process.env.DATA_DIR!);
else void main();
