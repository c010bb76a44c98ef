/**
 * Runs iproute2's `ip` (the only tool Trellis needs to set up namespace VPCs). Commands go in
 * batches (`ip -batch -`): one process per batch keeps attaching 100 VPCs to a few hundred
 * spawns. Outcomes are return values: a failed command is logged by the caller, never thrown.
 */
import { spawn } from 'node:child_process';

export interface IpResult {
  ok: boolean;
  /** What `ip` printed on stderr (its error messages), trimmed. */
  stderr: string;
}

/** Longest an `ip` run may take (a batch is a few netlink calls: milliseconds). */
const IP_TIMEOUT_MS = 10_000;

/** Where `ip` lives; overridable for hosts that keep it elsewhere. */
const IP_BINARY = process.env.TRELLIS_IP_BINARY ?? 'ip';

/**
 * `ip [globalArgs] -batch -` fed `lines`. `force` carries on after a failing line (used by
 * clean-ups, where "already gone" is the normal answer).
 */
export function ipBatch(
  globalArgs: readonly string[],
  lines: readonly string[],
  force = false,
): Promise<IpResult> {
  const args = [...globalArgs, ...(force ? ['-force'] : []), '-batch', '-'];
  return run(args, lines.join('\n') + '\n');
}

/** One `ip` command. */
export function ip(args: readonly string[]): Promise<IpResult> {
  return run(args, undefined);
}

function run(args: readonly string[], input: string | undefined): Promise<IpResult> {
  return new Promise<IpResult>((resolve) => {
    let stderr = '';
    let settled = false;
    const done = (r: IpResult): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const child = spawn(IP_BINARY, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    // Snapshots wait for namespace plumbing: a stuck `ip` must not hold configuration back.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ ok: false, stderr: `ip ${args.join(' ')} did not finish within ${IP_TIMEOUT_MS} ms` });
    }, IP_TIMEOUT_MS);
    timer.unref();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      done({ ok: false, stderr: err.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ ok: code === 0, stderr: stderr.trim() });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}
