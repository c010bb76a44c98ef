import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');

/** What one `trellis …` run printed and how it exited. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** An empty folder to run the CLI in, so a `./.trellis` of the work tree is never picked up. */
const EMPTY_CWD = mkdtempSync(join(tmpdir(), 'trellis-cli-cwd-'));

/**
 * The environment of a CLI run: this process's, minus every AWS_ and TRELLIS_ variable (so the
 * machine's own AWS setup cannot leak in), plus `env`. HOME points at an empty folder so the
 * AWS chain finds no ~/.aws files.
 */
export function cliEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('AWS_') && !k.startsWith('TRELLIS_')) out[k] = v;
  }
  return {
    ...out,
    HOME: EMPTY_CWD,
    // The SDK's Node-version notice would otherwise fill stderr on Node 20.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...env,
  };
}

/** Runs `node bin/trellis.js <args>` as a user does, and resolves with its output and exit code. */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; entry?: string } = {},
): Promise<CliRun> {
  const entry = options.entry ?? join(ROOT, 'bin/trellis.js');
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [entry, ...args],
      { cwd: EMPTY_CWD, env: cliEnv(options.env), timeout: 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/** Parses a run's stdout as JSON, failing with its output when it is not. */
export function jsonOf<T>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}
