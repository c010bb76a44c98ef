import { Command, CommanderError } from 'commander';
import { registerCliCommands } from '../../../src/cli/index.js';
import { cliEnvironment } from '../../../src/config/cli-settings.js';
import type { CliRun } from './run-cli.js';

/**
 * Runs `trellis <args>` in this process, with the commands `bin/trellis.ts` registers, its
 * output captured and `env` as its whole environment. A usage error resolves with exit code 2,
 * an API failure with 1 and its message on stderr (as `bin/trellis.ts` prints it).
 */
export async function runCliInProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io = { out: (s: string) => void (stdout += s), err: (s: string) => void (stderr += s) };
  const program = new Command('trellis');
  registerCliCommands(program, { io, env: cliEnvironment(env) });
  const quiet = (c: Command): void => {
    c.exitOverride();
    c.configureOutput({ writeOut: io.out, writeErr: io.err });
    c.commands.forEach(quiet);
  };
  quiet(program);
  try {
    await program.parseAsync(args, { from: 'user' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (err instanceof CommanderError) return { code: err.exitCode, stdout, stderr };
    stderr += `${err instanceof Error ? err.message : String(err)}\n`;
    return { code: 1, stdout, stderr };
  }
}
