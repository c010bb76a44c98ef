import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { VPCLatticeClient } from '@aws-sdk/client-vpc-lattice';

const ROOT = resolve(import.meta.dirname, '../..');

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A real `trellis up` process on a temporary data dir and an ephemeral API port. */
export interface TrellisProcess {
  endpoint: string;
  dataDir: string;
  region: string;
  accountId: string;
  credentials: Credentials;
  child: ChildProcess;
  /** Output of the process so far (stdout + stderr), for diagnosing failures. */
  output(): string;
  /** A VPC Lattice client signed with the given (default: admin) credentials. */
  lattice(credentials?: Credentials): VPCLatticeClient;
  /** SIGTERM and wait for exit; removes the data dir unless `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<number | null>;
  /** SIGKILL (crash) and wait for exit; keeps the data dir. */
  kill(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  accountId?: string;
  region?: string;
  /** Extra environment (e.g. TRELLIS_QUOTA_…). */
  env?: Record<string, string>;
  args?: string[];
  timeoutMs?: number;
  /** Another checkout to run (benches comparing a baseline commit); default this one. */
  root?: string;
}

/** Reads `[default]` keys from an AWS shared-credentials file. */
export function readCredentialsFile(file: string): Credentials {
  const text = readFileSync(file, 'utf8');
  const id = /aws_access_key_id\s*=\s*(\S+)/.exec(text)?.[1];
  const secret = /aws_secret_access_key\s*=\s*(\S+)/.exec(text)?.[1];
  if (!id || !secret) throw new Error(`no credentials in ${file}`);
  return { accessKeyId: id, secretAccessKey: secret };
}

/** Starts `trellis up` (through bin/trellis.js, as a user runs it) and waits until it serves. */
export async function startTrellis(options: StartOptions = {}): Promise<TrellisProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'trellis-test-'));
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '111122223333';
  const runtime = join(dataDir, 'runtime.json');
  rmSync(runtime, { force: true });
  const child = spawn(
    process.execPath,
    [
      join(options.root ?? ROOT, 'bin/trellis.js'),
      'up',
      '--data-dir',
      dataDir,
      '--api-listen',
      '127.0.0.1:0',
      '--region',
      region,
      '--account-id',
      accountId,
      ...(options.args ?? []),
    ],
    {
      cwd: options.root ?? ROOT,
      env: { ...process.env, TRELLIS_LOG_LEVEL: 'warn', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (!existsSync(runtime)) {
    if (exitCode !== undefined) throw new Error(`trellis up exited with ${exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`trellis up did not start in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  // The file may be seen between its creation and its write (writeFileSync is not atomic): poll
  // until it parses.
  let info: { apiEndpoint: string } | undefined;
  while (info === undefined) {
    try {
      info = JSON.parse(readFileSync(runtime, 'utf8')) as { apiEndpoint: string };
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const credentials = readCredentialsFile(join(dataDir, 'credentials'));
  const proc: TrellisProcess = {
    endpoint: info.apiEndpoint,
    dataDir,
    region,
    accountId,
    credentials,
    child,
    output: () => out,
    lattice: (creds = credentials) =>
      new VPCLatticeClient({
        endpoint: info.apiEndpoint,
        region,
        credentials: creds,
        maxAttempts: 1,
      }),
    async stop(stopOptions = {}) {
      if (exitCode === undefined) child.kill('SIGTERM');
      const code = await exited;
      if (!stopOptions.keepData && !options.dataDir)
        rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
    async kill() {
      if (exitCode === undefined) child.kill('SIGKILL');
      await exited;
    },
  };
  return proc;
}
