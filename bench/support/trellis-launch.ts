/**
 * Starts `trellis up` with extra Node flags (e.g. `--cpu-prof`, which NODE_OPTIONS does not
 * accept), the way test/support/trellis-process.ts starts it otherwise.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VPCLatticeClient } from '@aws-sdk/client-vpc-lattice';
import { readCredentialsFile } from '../../test/support/trellis-process.js';
import { ROOT, sleep, spawnTracked, stopChild } from './bench-kit.js';

export interface LaunchedTrellis {
  endpoint: string;
  accountId: string;
  lattice(): VPCLatticeClient;
  output(): string;
  stop(): Promise<void>;
}

export async function launchTrellis(options: {
  nodeArgs: string[];
  args: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
  /** An existing data dir (kept at stop); default: a fresh temporary one (removed at stop). */
  dataDir?: string;
}): Promise<LaunchedTrellis> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'trellis-bench-'));
  const runtime = join(dataDir, 'runtime.json');
  const accountId = '111122223333';
  const child = spawnTracked(
    process.execPath,
    [
      ...options.nodeArgs,
      join(ROOT, 'bin/trellis.js'),
      'up',
      '--data-dir',
      dataDir,
      '--api-listen',
      '127.0.0.1:0',
      '--account-id',
      accountId,
      ...options.args,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, TRELLIS_LOG_LEVEL: 'warn', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!existsSync(runtime)) {
    if (child.exitCode !== null)
      throw new Error(`trellis up exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      await stopChild(child, 'SIGKILL');
      throw new Error(`trellis up did not start in time:\n${out}`);
    }
    await sleep(25);
  }
  const info = JSON.parse(readFileSync(runtime, 'utf8')) as { apiEndpoint: string; region: string };
  const credentials = readCredentialsFile(join(dataDir, 'credentials'));
  return {
    endpoint: info.apiEndpoint,
    accountId,
    output: () => out,
    lattice: () =>
      new VPCLatticeClient({
        endpoint: info.apiEndpoint,
        region: info.region,
        credentials,
        maxAttempts: 1,
      }),
    async stop() {
      await stopChild(child, 'SIGTERM', 15_000);
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
