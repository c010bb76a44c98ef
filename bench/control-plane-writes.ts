/**
 * Creates/s per kind on the seeded 10k-service store (issue #2: 1,000 creates/s): CreateService,
 * CreateTargetGroup, CreateListener (forwarding to that group) and CreateRule (forwarding to it
 * too), 16 in flight, one phase per kind, on a copy of the cached seed (bench/support/seed-store.ts;
 * `npx tsx bench/control-plane.ts` makes it once). Listener and rule creates check which services
 * already forward to the group (spec §1.5 TargetGroup), so they are what grows with the store.
 *
 * Knobs: BENCH_WRITES (1500 of each kind), BENCH_ROOT (another checkout's tree to run, for a
 * same-minutes baseline), BENCH_CPU_PROF (a directory: `trellis up` writes a CPU profile into it
 * on exit, support/cpu-prof-preload.mjs),
 * BENCH_SERVICES / BENCH_TARGET_GROUPS / BENCH_TARGETS_PER_GROUP (seed).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateListenerCommand,
  CreateRuleCommand,
  CreateServiceCommand,
  CreateTargetGroupCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { startTrellis } from '../test/support/trellis-process.js';
import { fmt, OUT_DIR, quantile, trackTrellis } from './support/bench-kit.js';
import { defaultVpcId } from './support/lattice-setup.js';
import { seedQuotaEnv, type SeedSpec } from './support/seed-store.js';

const num = (name: string, def: number): number => Number(process.env[name] ?? def);
const spec: SeedSpec = {
  services: num('BENCH_SERVICES', 10_000),
  targetGroups: num('BENCH_TARGET_GROUPS', 100),
  targetsPerGroup: num('BENCH_TARGETS_PER_GROUP', 1000),
};
const writes = num('BENCH_WRITES', 1500);
const seedDir = join(
  OUT_DIR,
  `seed-v2-s${spec.services}-g${spec.targetGroups}x${spec.targetsPerGroup}`,
);
const dataDir = mkdtempSync(join(tmpdir(), 'trellis-bench-writes-'));
cpSync(seedDir, dataDir, { recursive: true });
rmSync(join(dataDir, 'seed.json'), { force: true });

/** Runs `count` calls 16 at a time; returns rate and latency quantiles. */
async function phase(label: string, count: number, call: (i: number) => Promise<void>) {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < count; i = next++) {
        const c0 = performance.now();
        await call(i);
        lat.push(performance.now() - c0);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `${label} ×16 in flight: ${count} in ${fmt(seconds, 1)} s = ${fmt(count / seconds, 0)}/s, p50 ${fmt(quantile(lat, 0.5), 1)} ms, p99 ${fmt(quantile(lat, 0.99), 1)} ms`,
  );
}

const proc = trackTrellis(
  await startTrellis({
    dataDir,
    env: {
      ...seedQuotaEnv(spec),
      TRELLIS_QUOTA_TARGETGROUPSPERREGION: String(spec.targetGroups + writes + 100),
      ...(process.env.BENCH_CPU_PROF
        ? {
            NODE_OPTIONS: `--import ${join(import.meta.dirname, 'support/cpu-prof-preload.mjs')}`,
            BENCH_PROF_DIR: process.env.BENCH_CPU_PROF,
          }
        : {}),
    },
    timeoutMs: 120_000,
    ...(process.env.BENCH_ROOT ? { root: process.env.BENCH_ROOT } : {}),
  }),
);
try {
  const c: VPCLatticeClient = proc.lattice();
  const run = `${Date.now()}`;
  const services: string[] = [];
  const groups: string[] = [];
  const listeners: string[] = [];
  await phase('CreateService', writes, async (i) => {
    services[i] = (await c.send(new CreateServiceCommand({ name: `w-${run}-${i}` }))).id!;
  });
  await phase('CreateTargetGroup', writes, async (i) => {
    const tg = await c.send(
      new CreateTargetGroupCommand({
        name: `w-${run}-${i}`,
        type: 'IP',
        config: { port: 80, protocol: 'HTTP', vpcIdentifier: defaultVpcId(proc.accountId) },
      }),
    );
    groups[i] = tg.id!;
  });
  const forward = (i: number) => ({
    forward: { targetGroups: [{ targetGroupIdentifier: groups[i]!, weight: 1 }] },
  });
  await phase('CreateListener', writes, async (i) => {
    const l = await c.send(
      new CreateListenerCommand({
        serviceIdentifier: services[i]!,
        name: 'http',
        protocol: 'HTTP',
        port: 80,
        defaultAction: forward(i),
      }),
    );
    listeners[i] = l.id!;
  });
  await phase('CreateRule', writes, async (i) => {
    await c.send(
      new CreateRuleCommand({
        serviceIdentifier: services[i]!,
        listenerIdentifier: listeners[i]!,
        name: 'path-r',
        priority: 1,
        match: { httpMatch: { pathMatch: { match: { prefix: '/r' } } } },
        action: forward(i),
      }),
    );
  });
} finally {
  await proc.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
