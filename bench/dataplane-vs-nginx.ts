/**
 * Data plane vs nginx on the same machine, in the same run (absolute numbers drift on a shared
 * host; ratios do not). Run: `npx tsx bench/dataplane-vs-nginx.ts` (needs `nginx` and `wrk`).
 *
 * Measures, with one nginx `return 200` origin as the upstream of both proxies:
 *  1. throughput: wrk -t1 -c50 against nginx (1 worker, keep-alive upstream) and Trellis (default =
 *     1 worker), interleaved rounds, median req/s and the ratio trellis/nginx;
 *  2. added latency at a paced 1,000 req/s: p50/p99 direct vs through nginx vs through Trellis;
 *  3. throughput with 10,000 services in the snapshot vs 10 (two Trellis processes, interleaved);
 *  4. config propagation: UpdateListener acknowledged → data plane serving the new fixed response;
 *  5. the default worker count: Trellis as it starts by default vs nginx `worker_processes auto`;
 *  6. a CPU profile (`node --cpu-prof`) of Trellis under the same wrk load: where the time goes.
 *
 * Knobs (environment): BENCH_ROUNDS (3), BENCH_DURATION_S (10), BENCH_SERVICES (10000),
 * BENCH_TARGET_GROUPS (100) × BENCH_TARGETS_PER_GROUP (1000) in the seeded store,
 * BENCH_CHANGES (100), BENCH_PACED_REQUESTS (5000), BENCH_PROFILE (1; 0 skips the profile).
 */
import { CreateListenerCommand, UpdateListenerCommand } from '@aws-sdk/client-vpc-lattice';
import type { VPCLatticeClient } from '@aws-sdk/client-vpc-lattice';
import { readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startTrellis } from '../test/support/trellis-process.js';
import { launchTrellis } from './support/trellis-launch.js';
import { seededDataDir, seedQuotaEnv, type SeedSpec } from './support/seed-store.js';
import {
  fmt,
  freePort,
  median,
  printResult,
  progress,
  quantile,
  randomLoopback,
  requireTools,
  saveResult,
  trackTrellis,
  type BenchFigure,
  type BenchResult,
} from './support/bench-kit.js';
import { summariseProfile } from './support/cpu-profile.js';
import {
  createAssociatedService,
  createProxyChain,
  defaultVpcId,
  pooled,
  waitHealthy,
  waitServing,
  type ProxyChain,
} from './support/lattice-setup.js';
import { startNginx, type NginxInstance } from './support/nginx.js';
import { pacedRun } from './support/paced-client.js';
import { runWrk, type WrkResult } from './support/wrk.js';

const SEED: SeedSpec = {
  services: Number(process.env.BENCH_SERVICES ?? 10_000),
  targetGroups: Number(process.env.BENCH_TARGET_GROUPS ?? 100),
  targetsPerGroup: Number(process.env.BENCH_TARGETS_PER_GROUP ?? 1000),
};

const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

interface TrellisUnderTest {
  label: string;
  proc: { accountId: string; stop(): Promise<unknown> };
  client: VPCLatticeClient;
  address: string;
  port: number;
  chain: ProxyChain;
}

/** Starts a Trellis whose data plane listens on its own loopback address, with quotas raised. */
async function startTrellisUnderTest(
  label: string,
  origin: { address: string; port: number },
  options: { nodeArgs?: string[]; dataDir?: string; serviceNetworkId?: string } = {},
): Promise<TrellisUnderTest> {
  const address = randomLoopback();
  const args = ['--dataplane-host', address, '--store-synchronous', 'NORMAL'];
  const env = seedQuotaEnv(SEED);
  const proc =
    options.nodeArgs !== undefined
      ? await launchTrellis({ nodeArgs: options.nodeArgs, args, env, timeoutMs: 120_000 })
      : trackTrellis(
          await startTrellis({
            args,
            env,
            timeoutMs: 120_000,
            ...(options.dataDir ? { dataDir: options.dataDir } : {}),
          }),
        );
  const client = proc.lattice();
  const port = await freePort(address);
  const chain = await createProxyChain(client, {
    name: `bench-${label}`,
    vpcId: defaultVpcId(proc.accountId),
    upstream: origin,
    listenerPort: port,
    // A VPC has at most one service network association: reuse the seeded store's network.
    ...(options.serviceNetworkId ? { serviceNetworkId: options.serviceNetworkId } : {}),
  });
  await waitServing(address, port, chain.host, 200, 120_000);
  return { label, proc, client, address, port, chain };
}

/** Adds `count` more services (associated, each with a fixed-response listener on the same port). */
async function addServices(t: TrellisUnderTest, count: number, started: number): Promise<number> {
  if (count <= 0) return 0;
  const { latenciesMs, wallMs } = await pooled(
    count,
    16,
    async (i) => {
      const { serviceId } = await createAssociatedService(
        t.client,
        t.chain.serviceNetworkId,
        `fill-${t.label}-${i}`,
      );
      await t.client.send(
        new CreateListenerCommand({
          serviceIdentifier: serviceId,
          name: 'fill',
          protocol: 'HTTP',
          port: t.port,
          defaultAction: { fixedResponse: { statusCode: 404 } },
        }),
      );
    },
    (done) => progress(started, `  ${t.label}: ${done}/${count} services (3 API calls each)`),
  );
  void latenciesMs;
  return wallMs;
}

/** UpdateListener (fixed-response status) → time until the data plane answers with it. */
async function propagation(
  t: TrellisUnderTest,
  changes: number,
  started: number,
): Promise<{ latenciesMs: number[]; timeouts: number }> {
  const port = await freePort(t.address);
  const listener = await t.client.send(
    new CreateListenerCommand({
      serviceIdentifier: t.chain.serviceId,
      name: 'propagation',
      protocol: 'HTTP',
      port,
      defaultAction: { fixedResponse: { statusCode: 404 } },
    }),
  );
  await waitServing(t.address, port, t.chain.host, 404);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const get = (): Promise<number> =>
    new Promise((res) => {
      const req = request(
        { host: t.address, port, path: '/', headers: { host: t.chain.host }, agent },
        (r) => {
          r.resume();
          r.on('end', () => res(r.statusCode ?? 0));
        },
      );
      req.on('error', () => res(0));
      req.end();
    });
  const codes = [403, 410, 418, 429, 404];
  const latenciesMs: number[] = [];
  let timeouts = 0;
  const deadline = Date.now() + 120_000;
  for (let i = 0; i < changes && Date.now() < deadline; i++) {
    const code = codes[i % codes.length]!;
    await t.client.send(
      new UpdateListenerCommand({
        serviceIdentifier: t.chain.serviceId,
        listenerIdentifier: listener.id!,
        defaultAction: { fixedResponse: { statusCode: code } },
      }),
    );
    const acked = performance.now();
    let seen = false;
    while (performance.now() - acked < 5000) {
      if ((await get()) === code) {
        seen = true;
        break;
      }
    }
    if (seen) latenciesMs.push(performance.now() - acked);
    else timeouts++;
  }
  agent.destroy();
  progress(started, `  ${t.label}: ${latenciesMs.length} changes observed, ${timeouts} timed out`);
  return { latenciesMs, timeouts };
}

function checkRun(label: string, r: WrkResult): string {
  const bad = r.non2xx + r.socketErrors;
  return `${label.padEnd(26)} ${fmt(r.requestsPerSecond, 0).padStart(8)} req/s  p50 ${fmt(r.latencyP50Ms)} ms  p99 ${fmt(r.latencyP99Ms)} ms${bad ? `  (${r.non2xx} non-2xx, ${r.socketErrors} socket errors!)` : ''}`;
}

/** Runs every part; returns the figures (also written to bench/out/dataplane-vs-nginx.json). */
export async function run(): Promise<BenchResult> {
  requireTools([
    { bin: 'nginx', versionArgs: ['-v'] },
    { bin: 'wrk', versionArgs: ['-v'] },
  ]);
  const rounds = num('BENCH_ROUNDS', 3);
  const duration = num('BENCH_DURATION_S', 10);
  const services = SEED.services;
  const changes = num('BENCH_CHANGES', 100);
  const pacedRequests = num('BENCH_PACED_REQUESTS', 5000);
  const profile = process.env.BENCH_PROFILE !== '0';
  const started = Date.now();
  const details: string[] = [];
  const figures: BenchFigure[] = [];
  const stops: (() => Promise<unknown>)[] = [];

  try {
    // The upstream: nginx `return 200` with one worker. It costs a fraction of the CPU per request
    // that either proxy does, so it is not what limits the proxied runs (a Node `http` origin
    // would cost about as much as the proxy under test and halve the headroom on 2 cores).
    const originAddress = randomLoopback();
    const origin = await startNginx({
      address: originAddress,
      port: await freePort(originAddress),
      workers: 1,
      role: { kind: 'origin' },
    });
    stops.push(() => origin.stop());
    const upstream = { address: origin.address, port: origin.port };
    const proxyAt = async (workers: number | 'auto'): Promise<NginxInstance> => {
      const a = randomLoopback();
      const n = await startNginx({
        address: a,
        port: await freePort(a),
        workers,
        role: { kind: 'proxy', upstream: `${origin.address}:${origin.port}` },
      });
      stops.push(() => n.stop());
      return n;
    };
    const nginx1 = await proxyAt(1);
    const nginxAuto = await proxyAt('auto');
    progress(started, `origin ${origin.address}:${origin.port}, nginx proxies up`);

    const small = await startTrellisUnderTest('small', upstream);
    stops.push(() => small.proc.stop());
    await addServices(small, 9, started);
    const seeded = await seededDataDir(SEED, started);
    stops.push(async () => rmSync(seeded.dataDir, { recursive: true, force: true }));
    const large = await startTrellisUnderTest('large', upstream, {
      dataDir: seeded.dataDir,
      serviceNetworkId: seeded.info.serviceNetworkId,
    });
    stops.push(() => large.proc.stop());
    details.push(
      `large Trellis: seeded store with ${SEED.services} services (each associated with the service network) and ${SEED.targetGroups * SEED.targetsPerGroup} targets in ${SEED.targetGroups} unused target groups${seeded.cached ? ' (cached seed)' : ''}`,
    );
    const health = await waitHealthy(small.client, small.chain.targetGroupId);
    details.push(`target health (small): ${health}`);
    progress(started, 'both Trellis processes serving');

    // 1 + 3 + 5: interleaved wrk rounds.
    let seconds = Math.min(duration, 5); // warm-up length; the rounds use `duration`
    const load = (url: string, host?: string): Promise<WrkResult> =>
      runWrk({
        url,
        threads: 1,
        connections: 50,
        durationSeconds: seconds,
        ...(host ? { host } : {}),
      });
    const systems: { label: string; go: () => Promise<WrkResult> }[] = [
      { label: 'nginx (1 worker)', go: () => load(`http://${nginx1.address}:${nginx1.port}/`) },
      {
        label: 'trellis (10 services)',
        go: () => load(`http://${small.address}:${small.port}/`, small.chain.host),
      },
      {
        label: 'trellis (10k services)',
        go: () => load(`http://${large.address}:${large.port}/`, large.chain.host),
      },
      {
        label: 'nginx (auto workers)',
        go: () => load(`http://${nginxAuto.address}:${nginxAuto.port}/`),
      },
      { label: 'origin direct', go: () => load(`http://${origin.address}:${origin.port}/`) },
    ];
    const results = new Map<string, WrkResult[]>(systems.map((s) => [s.label, []]));
    // Warm-up: the first seconds of a fresh Trellis run far slower (JIT, upstream pool growth);
    // the cold figure is reported, then excluded from the rounds.
    for (const s of systems) {
      const res = await s.go();
      const line = `warm-up: ${checkRun(s.label, res)}`;
      details.push(line);
      progress(started, line);
      if (s.label === 'trellis (10 services)')
        figures.push({
          name: 'trellis first run after start (cold, context)',
          value: res.requestsPerSecond,
          unit: 'req/s',
        });
    }
    seconds = duration;
    let command = '';
    for (let r = 0; r < rounds; r++) {
      for (const s of systems) {
        const res = await s.go();
        results.get(s.label)!.push(res);
        if (s.label === 'trellis (10 services)') command = res.command;
        const line = `round ${r + 1}: ${checkRun(s.label, res)}`;
        details.push(line);
        progress(started, line);
      }
    }
    const rps = (label: string): number =>
      median(results.get(label)!.map((x) => x.requestsPerSecond));
    const invalid = [...results.values()].flat().some((x) => x.non2xx + x.socketErrors > 0);
    const ratio = rps('trellis (10 services)') / rps('nginx (1 worker)');
    figures.push(
      { name: 'nginx proxy, 1 worker (median)', value: rps('nginx (1 worker)'), unit: 'req/s' },
      {
        name: 'trellis data plane, 1 worker (median)',
        value: rps('trellis (10 services)'),
        unit: 'req/s',
      },
      {
        name: 'throughput ratio trellis / nginx (1 worker each)',
        value: ratio,
        unit: '×',
        target: '≥ 0.5',
        pass: ratio >= 0.5,
        ...(invalid ? { note: 'some runs had errors' } : {}),
      },
      { name: 'origin direct (median, context)', value: rps('origin direct'), unit: 'req/s' },
    );
    const scale = rps('trellis (10k services)') / rps('trellis (10 services)');
    figures.push({
      name: `throughput ${services} services / 10 services`,
      value: scale,
      unit: '×',
      target: '≥ 0.95',
      pass: scale >= 0.95,
    });
    const defaultRatio = rps('trellis (10 services)') / rps('nginx (auto workers)');
    figures.push(
      {
        name: 'nginx proxy, worker_processes auto (median)',
        value: rps('nginx (auto workers)'),
        unit: 'req/s',
      },
      {
        name: 'default workers: trellis (1, the default) / nginx auto',
        value: defaultRatio,
        unit: '×',
        note: 'Trellis runs one worker by default; workers > 1 is not implemented',
      },
    );

    // 2: added latency at a paced moderate rate.
    const paced: Record<string, number[]> = { direct: [], nginx: [], trellis: [] };
    const pacedTargets = {
      direct: { address: origin.address, port: origin.port, host: 'origin' },
      nginx: { address: nginx1.address, port: nginx1.port, host: 'nginx' },
      trellis: { address: small.address, port: small.port, host: small.chain.host },
    };
    for (let r = 0; r < 2; r++) {
      for (const [label, target] of Object.entries(pacedTargets)) {
        const out = await pacedRun({
          ...target,
          rate: 1000,
          requests: pacedRequests,
          connections: 16,
          timeoutMs: (pacedRequests / 1000) * 1000 + 30_000,
        });
        paced[label]!.push(...out.latenciesMs);
        const line = `paced 1000 req/s round ${r + 1} ${label}: p50 ${fmt(quantile(out.latenciesMs, 0.5), 3)} ms p99 ${fmt(quantile(out.latenciesMs, 0.99), 3)} ms (late ${out.late}, errors ${out.errors}, non-200 ${out.badStatus})`;
        details.push(line);
        progress(started, line);
      }
    }
    const p = (label: string, q: number): number => quantile(paced[label]!, q);
    const addedP50 = p('trellis', 0.5) - p('direct', 0.5);
    const addedP99 = p('trellis', 0.99) - p('direct', 0.99);
    // A negative difference means the direct run caught more machine noise than the proxied one:
    // the figure is then not measurable on this machine, and gets no verdict.
    const added = (q: string, value: number, targetMs: number): BenchFigure => ({
      name: `added latency ${q} (trellis − direct)`,
      value,
      unit: 'ms',
      target: `< ${targetMs} ms`,
      ...(value >= 0
        ? { pass: value < targetMs }
        : { note: 'negative: noise on the direct run exceeds the difference; no verdict' }),
    });
    figures.push(
      { name: 'paced 1k req/s: direct p50', value: p('direct', 0.5), unit: 'ms' },
      { name: 'paced 1k req/s: direct p99', value: p('direct', 0.99), unit: 'ms' },
      { name: 'paced 1k req/s: via nginx p50', value: p('nginx', 0.5), unit: 'ms' },
      { name: 'paced 1k req/s: via nginx p99', value: p('nginx', 0.99), unit: 'ms' },
      { name: 'paced 1k req/s: via trellis p50', value: p('trellis', 0.5), unit: 'ms' },
      { name: 'paced 1k req/s: via trellis p99', value: p('trellis', 0.99), unit: 'ms' },
      added('p50', addedP50, 1),
      added('p99', addedP99, 3),
    );

    // 4: config propagation, with 10 and with 10k services in the snapshot.
    for (const t of [small, large]) {
      const out = await propagation(t, changes, started);
      const p99 = quantile(out.latenciesMs, 0.99);
      figures.push(
        {
          name: `propagation p50 (${t.label === 'small' ? 10 : services} services)`,
          value: quantile(out.latenciesMs, 0.5),
          unit: 'ms',
        },
        {
          name: `propagation p99 (${t.label === 'small' ? 10 : services} services)`,
          value: p99,
          unit: 'ms',
          target: '< 100 ms',
          pass: p99 < 100 && out.timeouts === 0,
          ...(out.timeouts ? { note: `${out.timeouts} changes not seen within 5 s` } : {}),
        },
      );
    }

    // Free the CPU for the profiled process (stop() again in finally is harmless).
    await small.proc.stop();
    await large.proc.stop();

    // 6: profile of the request path.
    if (profile) {
      const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-prof-'));
      const prof = await startTrellisUnderTest('profiled', upstream, {
        nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
      });
      await runWrk({
        url: `http://${prof.address}:${prof.port}/`,
        host: prof.chain.host,
        threads: 1,
        connections: 50,
        durationSeconds: 2,
      });
      const loadStart = Date.now();
      const profiled = await runWrk({
        url: `http://${prof.address}:${prof.port}/`,
        host: prof.chain.host,
        threads: 1,
        connections: 50,
        durationSeconds: duration,
      });
      const loadEnd = Date.now();
      details.push(`profiled run (under --cpu-prof): ${fmt(profiled.requestsPerSecond, 0)} req/s`);
      await prof.proc.stop();
      const exited = Date.now();
      // Only the samples of the measured wrk run (not start-up, set-up, warm-up or shutdown).
      const window = { fromEndMs: exited - loadStart - 200, toEndMs: exited - loadEnd + 200 };
      const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
      // The largest profile is the Trellis process (tsx may leave a small one for its loader).
      const biggest = files
        .map((f) => join(dir, f))
        .sort((a, b) => summariseProfile(b).busySamples - summariseProfile(a).busySamples)[0];
      if (biggest) {
        const s = summariseProfile(biggest, 20, window);
        details.push(`profile: ${s.busySamples} busy samples, idle ${fmt(s.idlePercent, 1)}%`);
        details.push('profile areas (self time, % of busy):');
        for (const a of s.areas) details.push(`  ${fmt(a.percent, 1).padStart(5)}%  ${a.name}`);
        details.push('profile self time top:');
        for (const h of s.selfTop) details.push(`  ${fmt(h.percent, 1).padStart(5)}%  ${h.name}`);
        details.push('profile inclusive time top:');
        for (const h of s.inclusiveTop)
          details.push(`  ${fmt(h.percent, 1).padStart(5)}%  ${h.name}`);
      }
      rmSync(dir, { recursive: true, force: true });
    }

    const result: BenchResult = {
      bench: 'dataplane-vs-nginx',
      commands: [
        'npx tsx bench/dataplane-vs-nginx.ts',
        `${command.replace(/-H 'Host: [^']+'/, "-H 'Host: <service DNS name>'")} (same for every system, ${rounds} interleaved rounds)`,
        'paced client: bench/support/paced-client.ts, 1000 req/s, 16 keep-alive connections',
      ],
      figures,
      details,
    };
    saveResult(result);
    return result;
  } finally {
    while (stops.length) await stops.pop()!().catch(() => undefined);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await run();
  printResult(result);
  for (const d of result.details) console.log(d);
  process.exit(0);
}
