/**
 * A large Trellis store, seeded through the public API once and cached under bench/out/ (seeding
 * tens of thousands of resources at today's ~100 writes/s takes minutes; reusing the seeded data
 * dir lets benches be re-run). Every run works on a fresh copy, so the cache is never modified.
 *
 * Contents: one service network associated with the default VPC; `services` services, each
 * associated with it (so each is a host in the data plane's routing table; no listeners: creating
 * a listener lists every listener and rule of the account, which makes seeding quadratic); and
 * `targetGroups` IP target groups with `targetsPerGroup` registered targets each (10.x addresses,
 * used by no listener, so nothing probes them).
 */
import {
  CreateTargetGroupCommand,
  RegisterTargetsCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTrellis } from '../../test/support/trellis-process.js';
import { OUT_DIR, progress, trackTrellis } from './bench-kit.js';
import { createAssociatedService, createNetwork, defaultVpcId, pooled } from './lattice-setup.js';

const SEED_VERSION = 2;

export interface SeedSpec {
  services: number;
  targetGroups: number;
  targetsPerGroup: number;
}

/** Quotas raised far enough for the seed and for what benches create on top of it. */
export function seedQuotaEnv(spec: SeedSpec): Record<string, string> {
  const big = String(Math.max(50_000, spec.services * 2));
  return {
    TRELLIS_QUOTA_SERVICESPERREGION: big,
    TRELLIS_QUOTA_SERVICEASSOCIATIONSPERSERVICENETWORK: big,
    TRELLIS_QUOTA_SERVICENETWORKSPERREGION: '1000',
    TRELLIS_QUOTA_TARGETGROUPSPERREGION: String(Math.max(500, spec.targetGroups + 100)),
    TRELLIS_QUOTA_TARGETSPERTARGETGROUP: String(Math.max(1000, spec.targetsPerGroup)),
  };
}

export interface SeedInfo {
  spec: SeedSpec;
  serviceNetworkId: string;
  targetGroupIds: string[];
  /** Seconds and API calls the seeding took (when it ran in this process). */
  seedSeconds: number;
  apiCalls: number;
  serviceCallsPerSecond: number;
  targetCallsPerSecond: number;
}

async function seed(
  client: VPCLatticeClient,
  accountId: string,
  spec: SeedSpec,
  started: number,
): Promise<Omit<SeedInfo, 'spec' | 'seedSeconds'>> {
  const { serviceNetworkId } = await createNetwork(client, 'seed-network', defaultVpcId(accountId));
  const svc = await pooled(
    spec.services,
    16,
    async (i) => {
      await createAssociatedService(client, serviceNetworkId, `seed-svc-${i}`);
    },
    (done) => progress(started, `  seed: ${done}/${spec.services} services (2 API calls each)`),
  );
  const targetGroupIds: string[] = [];
  for (let g = 0; g < spec.targetGroups; g++) {
    const tg = await client.send(
      new CreateTargetGroupCommand({
        name: `seed-tg-${g}`,
        type: 'IP',
        config: {
          port: 80,
          protocol: 'HTTP',
          protocolVersion: 'HTTP1',
          vpcIdentifier: defaultVpcId(accountId),
        },
      }),
    );
    targetGroupIds.push(tg.id!);
  }
  const batches = spec.targetGroups * Math.ceil(spec.targetsPerGroup / 100);
  const perGroup = Math.ceil(spec.targetsPerGroup / 100);
  const tgt = await pooled(
    batches,
    16,
    async (b) => {
      const g = Math.floor(b / perGroup);
      const first = (b % perGroup) * 100;
      const targets = [];
      for (let i = first; i < Math.min(first + 100, spec.targetsPerGroup); i++)
        targets.push({ id: `10.${g % 250}.${Math.floor(i / 250)}.${(i % 250) + 1}`, port: 8080 });
      await client.send(
        new RegisterTargetsCommand({ targetGroupIdentifier: targetGroupIds[g]!, targets }),
      );
    },
    (done) =>
      progress(started, `  seed: ${done}/${batches} RegisterTargets calls (100 targets each)`),
  );
  return {
    serviceNetworkId,
    targetGroupIds,
    apiCalls: 2 + spec.services * 2 + spec.targetGroups + batches,
    serviceCallsPerSecond: (spec.services * 2) / (svc.wallMs / 1000),
    targetCallsPerSecond: batches / (tgt.wallMs / 1000),
  };
}

/**
 * Returns a fresh copy of the seeded data dir (seeding first when no cache exists) and the seed's
 * description. The caller removes the copy when done.
 */
export async function seededDataDir(
  spec: SeedSpec,
  started: number,
): Promise<{ dataDir: string; info: SeedInfo; cached: boolean }> {
  const cache = join(
    OUT_DIR,
    `seed-v${SEED_VERSION}-s${spec.services}-g${spec.targetGroups}x${spec.targetsPerGroup}`,
  );
  const infoFile = join(cache, 'seed.json');
  let cached = true;
  if (!existsSync(infoFile)) {
    cached = false;
    const partial = `${cache}.partial`;
    rmSync(partial, { recursive: true, force: true });
    progress(
      started,
      `seeding ${spec.services} services and ${spec.targetGroups * spec.targetsPerGroup} targets through the API (once; cached in ${cache})`,
    );
    // The data plane is off while seeding: it recompiles the snapshot on every write, which
    // would make seeding quadratic (see bench/README.md); the seeded store is the same.
    const proc = trackTrellis(
      await startTrellis({
        dataDir: partial,
        args: ['--no-dataplane', '--store-synchronous', 'NORMAL'],
        env: seedQuotaEnv(spec),
        timeoutMs: 60_000,
      }),
    );
    const t0 = Date.now();
    try {
      const out = await seed(proc.lattice(), proc.accountId, spec, started);
      const info: SeedInfo = { spec, ...out, seedSeconds: (Date.now() - t0) / 1000 };
      await proc.stop({ keepData: true });
      writeFileSync(join(partial, 'seed.json'), JSON.stringify(info, null, 2));
      rmSync(cache, { recursive: true, force: true });
      renameSync(partial, cache);
    } catch (err) {
      await proc.stop({ keepData: true });
      throw err;
    }
    progress(started, 'seed stored');
  }
  const info = JSON.parse(readFileSync(infoFile, 'utf8')) as SeedInfo;
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-bench-seeded-'));
  cpSync(cache, dataDir, { recursive: true });
  rmSync(join(dataDir, 'runtime.json'), { force: true });
  return { dataDir, info, cached };
}
