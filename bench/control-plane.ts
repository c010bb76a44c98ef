/**
 * Control-plane benchmark on a large store: 10,000 services and 100,000 registered targets (seeded
 * through the API once, cached; quotas raised by environment). Run: `npx tsx bench/control-plane.ts`.
 *
 * Measures:
 *  - `trellis up` start-to-serving (spawn → `/health` 200), seeded store vs empty store, with the
 *    stages taken from the process's own log timestamps;
 *  - Get* p99 and List* page p99 through the SDK, sequential, one client;
 *  - creates/s sustained (CreateService, 16 in flight) on the seeded store and on an empty one,
 *    with default settings (data plane on, SQLite synchronous FULL).
 *
 * Knobs (environment): BENCH_SERVICES (10000), BENCH_TARGET_GROUPS (100), BENCH_TARGETS_PER_GROUP
 * (1000), BENCH_STARTS (3), BENCH_GETS (1000), BENCH_CREATES (2000).
 */
import {
  CreateServiceCommand,
  GetServiceCommand,
  GetTargetGroupCommand,
  ListServiceNetworkServiceAssociationsCommand,
  ListServicesCommand,
  ListTargetsCommand,
  VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readCredentialsFile } from '../test/support/trellis-process.js';
import {
  fmt,
  freePort,
  median,
  printResult,
  progress,
  quantile,
  randomLoopback,
  ROOT,
  saveResult,
  sleep,
  spawnTracked,
  stopChild,
  type BenchFigure,
  type BenchResult,
} from './support/bench-kit.js';
import { pooled } from './support/lattice-setup.js';
import { seededDataDir, seedQuotaEnv, type SeedSpec } from './support/seed-store.js';

const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

interface Started {
  client: VPCLatticeClient;
  /** spawn → runtime.json → /health 200, and the stages from the process's log (ms after spawn). */
  servingMs: number;
  /** spawn → first `/health` 200 on the (fixed) API port: the control plane is usable. */
  apiMs: number;
  stages: Record<string, number>;
  stop(): Promise<void>;
}

function health(endpoint: string): Promise<number> {
  return new Promise((res) => {
    const req = get(`${endpoint}/health`, { agent: false }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode ?? 0));
    });
    req.on('error', () => res(0));
  });
}

/** Spawns `trellis up` on `dataDir` with default settings (info logs, for stage timestamps). */
async function startMeasured(dataDir: string, env: Record<string, string>): Promise<Started> {
  const runtime = join(dataDir, 'runtime.json');
  rmSync(runtime, { force: true });
  // A fixed port, so /health can be polled before runtime.json exists (the API listens before the
  // data plane has compiled the snapshot; runtime.json is written once both serve).
  const apiPort = await freePort('127.0.0.1');
  const direct = `http://127.0.0.1:${apiPort}`;
  const spawnedAt = Date.now();
  const child = spawnTracked(
    process.execPath,
    [
      join(ROOT, 'bin/trellis.js'),
      'up',
      '--data-dir',
      dataDir,
      '--api-listen',
      `127.0.0.1:${apiPort}`,
      '--dataplane-host',
      randomLoopback(),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, ...env, TRELLIS_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = spawnedAt + 120_000;
  let endpoint = '';
  let apiMs = 0;
  for (;;) {
    if (apiMs === 0 && (await health(direct)) === 200) apiMs = Date.now() - spawnedAt;
    if (child.exitCode !== null) throw new Error(`trellis up exited: ${out}`);
    if (Date.now() > deadline) {
      await stopChild(child, 'SIGKILL');
      throw new Error(`trellis up not serving after 120 s: ${out}`);
    }
    if (endpoint === '' && existsSync(runtime)) {
      try {
        endpoint = (JSON.parse(readFileSync(runtime, 'utf8')) as { apiEndpoint: string })
          .apiEndpoint;
      } catch {
        // being written
      }
    }
    if (endpoint !== '' && (await health(endpoint)) === 200) break;
    await sleep(5);
  }
  const servingMs = Date.now() - spawnedAt;
  // pino lines carry `time` (epoch ms): when the data plane applied its first snapshot and when
  // the API was serving, relative to the spawn.
  const stages: Record<string, number> = {};
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const rec = JSON.parse(line) as { time?: number; msg?: string };
      if (rec.time === undefined || rec.msg === undefined) continue;
      if (rec.msg === 'snapshot applied' && stages.firstSnapshotApplied === undefined)
        stages.firstSnapshotApplied = rec.time - spawnedAt;
      if (rec.msg === 'trellis is serving') stages.apiServing = rec.time - spawnedAt;
      if (rec.msg === 'control plane API is listening') stages.apiListening = rec.time - spawnedAt;
    } catch {
      // not a log record
    }
  }
  const info = JSON.parse(readFileSync(runtime, 'utf8')) as { region: string };
  const client = new VPCLatticeClient({
    endpoint,
    region: info.region,
    credentials: readCredentialsFile(join(dataDir, 'credentials')),
    maxAttempts: 1,
  });
  return {
    client,
    servingMs,
    apiMs,
    stages,
    async stop() {
      client.destroy();
      await stopChild(child, 'SIGTERM', 15_000);
    },
  };
}

/** Spawn → exit of a Node process that only imports `src/bin/up.ts` through tsx (module load). */
function moduleLoadMs(): number {
  const t0 = Date.now();
  spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', "await import('./src/bin/up.ts')"],
    {
      cwd: ROOT,
      stdio: 'ignore',
      timeout: 120_000,
    },
  );
  return Date.now() - t0;
}

/** `count` sequential calls; returns latencies (ms) after `warmup` discarded calls. */
async function sequential(
  count: number,
  call: (i: number) => Promise<unknown>,
  warmup = 50,
): Promise<number[]> {
  const out: number[] = [];
  const deadline = Date.now() + 120_000;
  for (let i = 0; i < count + warmup && Date.now() < deadline; i++) {
    const t0 = performance.now();
    await call(i);
    if (i >= warmup) out.push(performance.now() - t0);
  }
  return out;
}

/** Pages through a List operation (bounded); returns per-page latencies and the items seen. */
async function pages<T>(
  maxPages: number,
  call: (token: string | undefined) => Promise<{ items?: T[]; nextToken?: string }>,
): Promise<{ latencies: number[]; items: T[] }> {
  const latencies: number[] = [];
  const items: T[] = [];
  let token: string | undefined;
  for (let p = 0; p < maxPages; p++) {
    const t0 = performance.now();
    const page = await call(token);
    latencies.push(performance.now() - t0);
    items.push(...(page.items ?? []));
    token = page.nextToken;
    if (!token) break;
  }
  return { latencies, items };
}

export async function run(): Promise<BenchResult> {
  const spec: SeedSpec = {
    services: num('BENCH_SERVICES', 10_000),
    targetGroups: num('BENCH_TARGET_GROUPS', 100),
    targetsPerGroup: num('BENCH_TARGETS_PER_GROUP', 1000),
  };
  const starts = num('BENCH_STARTS', 3);
  const gets = num('BENCH_GETS', 1000);
  const creates = num('BENCH_CREATES', 2000);
  const started = Date.now();
  const figures: BenchFigure[] = [];
  const details: string[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  const env = seedQuotaEnv(spec);
  try {
    const seeded = await seededDataDir(spec, started);
    cleanups.push(() => rmSync(seeded.dataDir, { recursive: true, force: true }));
    const { info } = seeded;
    details.push(
      `seed: ${spec.services} services (each associated with one service network) + ${spec.targetGroups} target groups × ${spec.targetsPerGroup} targets = ${info.apiCalls} API calls in ${fmt(info.seedSeconds, 0)} s with the data plane off (${fmt(info.serviceCallsPerSecond, 0)} service calls/s, ${fmt(info.targetCallsPerSecond, 0)} RegisterTargets calls/s of 100 targets)${seeded.cached ? ' — cached seed reused' : ''}`,
    );
    const emptyDir = mkdtempSync(join(tmpdir(), 'trellis-bench-empty-'));
    cleanups.push(() => rmSync(emptyDir, { recursive: true, force: true }));
    // First start of the empty dir creates the account and VPC; not measured.
    await (await startMeasured(emptyDir, env)).stop();

    // Start-to-serving, interleaved empty/seeded.
    const servingSeeded: number[] = [];
    const servingEmpty: number[] = [];
    const apiSeeded: number[] = [];
    const loads: number[] = [];
    let lastSeededStages: Record<string, number> = {};
    for (let i = 0; i < starts; i++) {
      const e = await startMeasured(emptyDir, env);
      await e.stop();
      servingEmpty.push(e.servingMs);
      const s = await startMeasured(seeded.dataDir, env);
      await s.stop();
      servingSeeded.push(s.servingMs);
      apiSeeded.push(s.apiMs);
      loads.push(moduleLoadMs());
      lastSeededStages = s.stages;
      const line = `start ${i + 1}: empty ${e.servingMs} ms (first snapshot applied at ${e.stages.firstSnapshotApplied ?? '?'} ms); seeded ${s.servingMs} ms (API answering /health at ${s.apiMs} ms, listening logged at ${s.stages.apiListening ?? '?'} ms, first snapshot applied at ${s.stages.firstSnapshotApplied ?? '?'} ms, everything serving at ${s.stages.apiServing ?? '?'} ms)`;
      details.push(line);
      progress(started, line);
    }
    const seededServing = median(servingSeeded);
    figures.push(
      {
        name: `start-to-serving, ${spec.services} services / ${spec.targetGroups * spec.targetsPerGroup} targets (median)`,
        value: seededServing,
        unit: 'ms',
        target: '< 2000 ms',
        pass: seededServing < 2000,
      },
      {
        name: `start to control-plane API answering, ${spec.services} services (median)`,
        value: median(apiSeeded),
        unit: 'ms',
        target: '< 2000 ms',
        pass: median(apiSeeded) < 2000,
      },
      {
        name: 'start-to-serving, empty store (median, context)',
        value: median(servingEmpty),
        unit: 'ms',
      },
    );
    void lastSeededStages;

    // Reads on the seeded store, data plane on.
    const proc = await startMeasured(seeded.dataDir, env);
    cleanups.push(() => proc.stop());
    const c = proc.client;
    const listSvc = await pages(200, (nextToken) =>
      c.send(new ListServicesCommand({ maxResults: 100, nextToken })),
    );
    const serviceIds = listSvc.items.map((s) => s.id!);
    const listAssoc = await pages(200, (nextToken) =>
      c.send(
        new ListServiceNetworkServiceAssociationsCommand({
          serviceNetworkIdentifier: info.serviceNetworkId,
          maxResults: 100,
          nextToken,
        }),
      ),
    );
    const listTargets: number[] = [];
    for (let g = 0; g < Math.min(10, info.targetGroupIds.length); g++) {
      const r = await pages(20, (nextToken) =>
        c.send(
          new ListTargetsCommand({
            targetGroupIdentifier: info.targetGroupIds[g]!,
            maxResults: 100,
            nextToken,
          }),
        ),
      );
      listTargets.push(...r.latencies);
    }
    progress(started, `listed ${serviceIds.length} services in ${listSvc.latencies.length} pages`);
    const getSvc = await sequential(gets, (i) =>
      c.send(
        new GetServiceCommand({ serviceIdentifier: serviceIds[(i * 7919) % serviceIds.length]! }),
      ),
    );
    const getTg = await sequential(Math.ceil(gets / 2), (i) =>
      c.send(
        new GetTargetGroupCommand({
          targetGroupIdentifier: info.targetGroupIds[i % info.targetGroupIds.length]!,
        }),
      ),
    );
    const row = (name: string, xs: number[], target?: number): BenchFigure => ({
      name: `${name} p99 (n=${xs.length}; p50 ${fmt(quantile(xs, 0.5))} ms)`,
      value: quantile(xs, 0.99),
      unit: 'ms',
      ...(target !== undefined
        ? { target: `< ${target} ms`, pass: quantile(xs, 0.99) < target }
        : {}),
    });
    figures.push(
      row('GetService', getSvc, 5),
      row('GetTargetGroup', getTg, 5),
      row('ListServices page (100 of 10k)', listSvc.latencies, 20),
      row('ListServiceNetworkServiceAssociations page', listAssoc.latencies, 20),
      row('ListTargets page (100 of 1000)', listTargets, 20),
    );

    // Creates/s with default settings, on the seeded store and on an empty one.
    const createRate = async (client: VPCLatticeClient, label: string): Promise<number> => {
      // Bounded in count and time; failures (e.g. 408 from a stalled API) are counted, not fatal.
      const deadline = Date.now() + 90_000;
      const failures = new Map<string, number>();
      let okCount = 0;
      const ok: number[] = [];
      const t0 = performance.now();
      await pooled(
        creates,
        16,
        async (i) => {
          if (Date.now() > deadline) return;
          const c0 = performance.now();
          try {
            await client.send(
              new CreateServiceCommand({ name: `bench-${label}-${Date.now()}-${i}` }),
            );
            okCount++;
            ok.push(performance.now() - c0);
          } catch (err) {
            const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
            const key = `${e.$metadata?.httpStatusCode ?? '?'} ${e.name ?? 'error'}`;
            failures.set(key, (failures.get(key) ?? 0) + 1);
          }
        },
        (done) => progress(started, `  ${label}: ${done}/${creates} CreateService`),
      );
      const seconds = (performance.now() - t0) / 1000;
      const rate = okCount / seconds;
      const failed = [...failures].map(([k, n]) => `${n}× ${k}`).join(', ');
      details.push(
        `CreateService, 16 in flight, ${label}: ${okCount} created in ${fmt(seconds, 1)} s = ${fmt(rate, 1)}/s, latency p50 ${fmt(quantile(ok, 0.5))} ms p99 ${fmt(quantile(ok, 0.99))} ms${failed ? `; failures: ${failed}` : ''}`,
      );
      return rate;
    };
    const seededRate = await createRate(c, 'seeded');
    await proc.stop();
    const empty = await startMeasured(emptyDir, env);
    cleanups.push(() => empty.stop());
    const emptyRate = await createRate(empty.client, 'empty');
    await empty.stop();
    figures.push(
      {
        name: `creates/s sustained, ${spec.services}-service store (CreateService ×16)`,
        value: seededRate,
        unit: '/s',
        target: '≥ 1000/s',
        pass: seededRate >= 1000,
      },
      {
        name: 'creates/s sustained, empty store (context)',
        value: emptyRate,
        unit: '/s',
        target: '≥ 1000/s',
        pass: emptyRate >= 1000,
      },
    );

    const result: BenchResult = {
      bench: 'control-plane',
      commands: [
        'npx tsx bench/control-plane.ts',
        'trellis up --data-dir <copy of seed> --api-listen 127.0.0.1:0 --dataplane-host <random 127.x> (default settings; quotas via TRELLIS_QUOTA_*)',
      ],
      figures,
      details,
    };
    saveResult(result);
    return result;
  } finally {
    while (cleanups.length) await Promise.resolve(cleanups.pop()!()).catch(() => undefined);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await run();
  printResult(result);
  for (const d of result.details) console.log(d);
  process.exit(0);
}
