import type { VPCLatticeClient } from '@aws-sdk/client-vpc-lattice';
import { Command, InvalidArgumentError, type HelpContext } from 'commander';
import { cliEnvironment, type CliEnvironment } from '../config/cli-settings.js';
import {
  addClientOptions,
  createLatticeClient,
  resolveClientConfig,
  resolveOutputFormat,
  type ClientConfig,
  type ClientOptions,
} from './client-config.js';
import {
  CliFailure,
  describeFailure,
  processIo,
  progress,
  renderList,
  renderResource,
  USAGE_ERROR_EXIT,
  type CliIo,
  type Column,
  type OutputFormat,
} from './output.js';
import { createTrellisApiClient, type TrellisApiClient } from './trellis-api-client.js';

/**
 * A `commander` command whose usage errors (unknown flag, missing argument, missing
 * subcommand, bad flag value) exit with status 2, as opposed to 1 for failed API calls.
 */
export class CliCommand extends Command {
  /** Where this group's commands write and which environment they read (tests replace them). */
  runtime?: CliRuntime;

  override createCommand(name?: string): CliCommand {
    return new CliCommand(name);
  }

  override error(message: string, errorOptions?: { code?: string; exitCode?: number }): never {
    // Every error commander reports itself (unknown flag, bad choice, InvalidArgumentError from
    // a flag parser — which carries exitCode 1) is a usage error.
    return super.error(message, { ...errorOptions, exitCode: USAGE_ERROR_EXIT });
  }

  override help(context?: HelpContext | ((str: string) => string)): never {
    // commander exits with process.exitCode when it is set; a help shown because of a usage
    // error (e.g. a group called without its subcommand) is a usage error.
    if (context && typeof context === 'object' && context.error)
      process.exitCode = USAGE_ERROR_EXIT;
    return super.help(context as HelpContext);
  }
}

/** A resource group such as `service-network`, whose subcommands are the verbs. */
export function createGroup(name: string, description: string): CliCommand {
  return new CliCommand(name)
    .description(description)
    .showHelpAfterError('(run with --help for usage)') as CliCommand;
}

/** Full name of a command for messages, e.g. `trellis service-network create`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  if (names[0] !== 'trellis') names.unshift('trellis');
  return names.join(' ');
}

/** Adds an `Example:` section to a command's --help. */
export function withExamples<C extends Command>(cmd: C, ...examples: string[]): C {
  cmd.addHelpText(
    'after',
    `\nExample${examples.length > 1 ? 's' : ''}:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`,
  );
  return cmd;
}

/** What a client command's action gets: its flags, clients and printers. */
export interface CommandContext<O> {
  opts: O & ClientOptions;
  /** Endpoint, region and credentials (resolved on first use). */
  readonly config: ClientConfig;
  output: OutputFormat;
  io: CliIo;
  /** The VPC Lattice SDK client (created on first use, destroyed after the action). */
  lattice(): VPCLatticeClient;
  /** The client of Trellis's own `/_trellis/…` operations. */
  trellis(): TrellisApiClient;
  printList<T>(items: readonly T[], columns: readonly Column<T>[]): void;
  printResource(resource: unknown): void;
  /** A progress line on stderr (multi-step commands). */
  progress(text: string): void;
  /** Fails with exit status 2 and the given explanation. */
  usage(wrong: string, todo?: string): never;
}

/** Where client commands write and the environment they read; defaults: the process's. */
export interface CliRuntime {
  io?: CliIo;
  env?: CliEnvironment;
}

/** The runtime set on the nearest enclosing group (see `registerCliCommands`). */
function runtimeOf(cmd: Command): CliRuntime {
  for (let c: Command | null = cmd; c; c = c.parent) {
    if (c instanceof CliCommand && c.runtime) return c.runtime;
  }
  return {};
}

/**
 * Adds the connection flags to `cmd` and sets its action: resolve endpoint and credentials,
 * run `run`, and turn any failure into "what was wrong / what to do" (exit 1 for API errors,
 * 2 for usage errors).
 */
export function clientAction<O>(
  cmd: Command,
  run: (ctx: CommandContext<O>, args: string[]) => Promise<void>,
): Command {
  addClientOptions(cmd);
  cmd.action(async (...actionArgs: unknown[]) => {
    const command = actionArgs[actionArgs.length - 1] as Command;
    const args = actionArgs
      .slice(0, -2)
      .flat()
      .filter((a): a is string => typeof a === 'string');
    const opts = command.opts<O & ClientOptions>();
    const runtime = runtimeOf(command);
    const io = runtime.io ?? processIo;
    const env = runtime.env ?? cliEnvironment();
    const name = commandPath(command);
    let lattice: VPCLatticeClient | undefined;
    let config: ClientConfig | undefined;
    try {
      const output = resolveOutputFormat(opts, env);
      // Resolved on first use, so that flag mistakes are reported before "no endpoint".
      const getConfig = (): ClientConfig => (config ??= resolveClientConfig(opts, env));
      const ctx: CommandContext<O> = {
        opts,
        get config() {
          return getConfig();
        },
        output,
        io,
        lattice: () => (lattice ??= createLatticeClient(getConfig())),
        trellis: () => createTrellisApiClient(getConfig()),
        printList: (items, columns) => io.out(renderList(items, columns, output)),
        printResource: (resource) => io.out(renderResource(resource, output)),
        progress: (text) => progress(io, text),
        usage: (wrong, todo) => {
          throw new CliFailure(
            [`${name}: ${wrong}`],
            todo ?? `See \`${name} --help\`.`,
            USAGE_ERROR_EXIT,
          );
        },
      };
      await run(ctx, args);
    } catch (err) {
      const failure = describeFailure(err, {
        command: name,
        endpoint: config?.endpoint,
        dataDir: config?.endpointSource === 'runtime.json' ? config.dataDir : undefined,
      });
      if (failure.exitCode === USAGE_ERROR_EXIT) {
        command.error(failure.message, { exitCode: USAGE_ERROR_EXIT, code: 'trellis.usage' });
      }
      throw failure;
    } finally {
      lattice?.destroy();
    }
  });
  return cmd;
}

/** Adds `--max-items <n>` to a list command (default: every page). */
export function addMaxItems(cmd: Command): Command {
  return cmd.option(
    '--max-items <n>',
    'stop after this many items (default: all pages)',
    (text: string) => {
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < 1)
        throw new InvalidArgumentError('expected a positive integer.');
      return n;
    },
  );
}

/** Collects the `items` of an SDK paginator, stopping after `maxItems` when given. */
export async function collectItems<T>(
  pages: AsyncIterable<{ items?: T[] | undefined }>,
  maxItems?: number,
): Promise<T[]> {
  const items: T[] = [];
  for await (const page of pages) {
    items.push(...(page.items ?? []));
    if (maxItems !== undefined && items.length >= maxItems) return items.slice(0, maxItems);
  }
  return items;
}

/** Ends a delete-style command: a sentence in table mode, the response (or `{id}`) in JSON. */
export function printDone(
  ctx: CommandContext<unknown>,
  sentence: string,
  resource: Record<string, unknown>,
): void {
  if (ctx.output === 'json') ctx.printResource(resource);
  else ctx.io.out(`${sentence}\n`);
}
