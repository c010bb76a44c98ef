// The client commands without `trellis up` (as src/bin/trellis.ts registers them), so their
// usage and error paths can be tested in a child process without starting the server code.
import { Command } from 'commander';
import { registerCliCommands } from '../../../src/cli/index.js';

const program = new Command('trellis').showHelpAfterError('(run with --help for usage)');
registerCliCommands(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
