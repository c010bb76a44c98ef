import { Command, Option } from 'commander';
import {
  loadSettings,
  settingsFromEnv,
  SETTING_DESCRIPTIONS,
  type SettingsInput,
} from '../config/settings.js';
import { AwsError } from '../errors/aws-errors.js';
import { registerCliCommands } from '../cli/index.js';
import { monitoringSettingsFromEnv } from '../config/monitoring-settings.js';
import { up } from './up.js';

/** The `trellis` command: `up` (this process runs Trellis) and the API client commands. */
const program = new Command('trellis')
  .description('Trellis: a self-hosted service network that speaks the Amazon VPC Lattice API.')
  .showHelpAfterError('(run with --help for usage)');

const upCommand = program
  .command('up')
  .description('Run Trellis: the control-plane API and the data plane on the embedded store.');
for (const d of SETTING_DESCRIPTIONS) {
  if (d.key === 'dataplane') {
    upCommand.addOption(new Option('--no-dataplane', `do not run the data plane (env ${d.env})`));
    continue;
  }
  const flag = `${d.flag} <value>`;
  upCommand.addOption(new Option(flag, `${d.help} (env ${d.env})`).default(undefined, d.default));
}
upCommand.addOption(
  new Option(
    '--otlp-endpoint <url>',
    'export one OpenTelemetry span per proxied request over OTLP/HTTP (JSON) to this URL, e.g. http://127.0.0.1:4318/v1/traces (env TRELLIS_OTLP_ENDPOINT; default: off)',
  ),
);
upCommand.action(async (opts: Record<string, string | boolean | undefined>) => {
  const input: SettingsInput = settingsFromEnv(process.env);
  for (const d of SETTING_DESCRIPTIONS) {
    const v = opts[d.key];
    if (d.key === 'dataplane') {
      if (v === false) input.dataplane = 'false';
    } else if (typeof v === 'string') (input as Record<string, string>)[d.key] = v;
  }
  let settings;
  try {
    settings = loadSettings(input);
  } catch (err) {
    if (err instanceof AwsError) {
      console.error(`trellis up: ${err.message}`);
      console.error('Fix the flag or environment variable named above (see trellis up --help).');
      process.exit(2);
    }
    throw err;
  }
  let monitoringSettings;
  try {
    const otlp = opts.otlpEndpoint;
    monitoringSettings = monitoringSettingsFromEnv(
      typeof otlp === 'string' ? { ...process.env, TRELLIS_OTLP_ENDPOINT: otlp } : process.env,
    );
  } catch (err) {
    console.error(`trellis up: ${(err as Error).message}`);
    console.error('Fix the flag or environment variable named above (see trellis up --help).');
    process.exit(2);
  }
  let running;
  try {
    running = await up(settings, monitoringSettings);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      console.error(
        `trellis up: ${settings.apiListen.host}:${settings.apiListen.port} is in use. Stop the other process or pass --api-listen host:port.`,
      );
      process.exit(1);
    }
    throw err;
  }
  console.log(`Trellis is serving the VPC Lattice API at ${running.apiEndpoint}`);
  console.log(
    `  region ${settings.region}, account ${settings.accountId}, data in ${settings.dataDir}`,
  );
  console.log(`  credentials: ${settings.dataDir}/credentials (profile default)`);
  console.log('  try:');
  console.log(
    `    export AWS_SHARED_CREDENTIALS_FILE=${settings.dataDir}/credentials AWS_CONFIG_FILE=${settings.dataDir}/config AWS_ENDPOINT_URL=${running.apiEndpoint}`,
  );
  console.log('    npx trellis service-network create --name my-network');
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`Received ${signal}; stopping Trellis.`);
    void running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
});

program
  .command('demo')
  .description(
    'Run the e-commerce demo (examples/ecommerce/demo.ts; --non-interactive, --data-dir …).',
  )
  .allowUnknownOption()
  .allowExcessArguments()
  .helpOption(false)
  .action(async (_opts: unknown, cmd: Command) => {
    const demo = new URL('../../examples/ecommerce/demo.ts', import.meta.url).href;
    const { runDemo } = (await import(demo)) as { runDemo: (argv: string[]) => Promise<number> };
    process.exit(await runDemo(cmd.args));
  });

registerCliCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
