import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VPCLatticeClient } from '@aws-sdk/client-vpc-lattice';
import { fromIni, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Option, type Command } from 'commander';
import { cliEnvironment, type CliEnvironment } from '../config/cli-settings.js';
import { CliFailure, type OutputFormat } from './output.js';

/** The connection flags every client command accepts (see {@link addClientOptions}). */
export interface ClientOptions {
  endpoint?: string;
  region?: string;
  dataDir?: string;
  profile?: string;
  output?: string;
}

/** A provider of AWS credentials, as the SDK clients take it. */
export type CredentialsProvider = ReturnType<typeof fromNodeProviderChain>;

/** Where a value came from, so errors and `--verbose`-style messages can say so. */
export type EndpointSource =
  '--endpoint' | 'TRELLIS_ENDPOINT' | 'AWS_ENDPOINT_URL' | 'runtime.json';
export type CredentialsSource = 'aws-chain' | 'data-dir';

/** Everything a client command needs to reach the Trellis API. */
export interface ClientConfig {
  endpoint: string;
  endpointSource: EndpointSource;
  region: string;
  /** The data dir that was looked at (absolute), whether or not it was used. */
  dataDir: string;
  credentials: CredentialsProvider;
  credentialsSource: CredentialsSource;
  output: OutputFormat;
}

/** `<data-dir>/runtime.json`, written by a running `trellis up`. */
interface RuntimeInfo {
  apiEndpoint?: string;
  pid?: number;
  region?: string;
}

/** Trellis's default region (`trellis up --region`), used when nothing else names one. */
const DEFAULT_REGION = 'us-east-1';
const DEFAULT_DATA_DIR = './.trellis';

/** Adds `--endpoint`, `--region`, `--data-dir`, `--profile` and `--output` to a client command. */
export function addClientOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('-o, --output <format>', 'output format (env TRELLIS_OUTPUT)').choices([
        'table',
        'json',
      ]),
    )
    .addOption(
      new Option(
        '--endpoint <url>',
        'Trellis API endpoint (env TRELLIS_ENDPOINT or AWS_ENDPOINT_URL; default: from the data dir)',
      ),
    )
    .addOption(
      new Option(
        '--data-dir <dir>',
        'data dir of a local `trellis up` (env TRELLIS_DATA_DIR, default ./.trellis)',
      ),
    )
    .addOption(new Option('--region <region>', 'region to sign for (env AWS_REGION)'))
    .addOption(new Option('--profile <name>', 'AWS profile for credentials (env AWS_PROFILE)'));
}

function readRuntime(dataDir: string): RuntimeInfo | undefined {
  const file = join(dataDir, 'runtime.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RuntimeInfo;
  } catch {
    throw new CliFailure(
      [`${file} is not valid JSON.`],
      'Restart `npx trellis up` (it rewrites the file), or set TRELLIS_ENDPOINT.',
    );
  }
}

function checkEndpoint(value: string, source: EndpointSource): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliFailure(
      [`${source} "${value}" is not a URL.`],
      'Give a URL like http://127.0.0.1:7700.',
      2,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliFailure(
      [`${source} "${value}" must use http or https.`],
      'Give a URL like http://127.0.0.1:7700.',
      2,
    );
  }
  return value.replace(/\/+$/, '');
}

/**
 * Resolves endpoint, region, credentials and output format for a client command.
 * Endpoint: `--endpoint`, `TRELLIS_ENDPOINT`, `AWS_ENDPOINT_URL`, else `<data-dir>/runtime.json`.
 * Region: `--region`, `AWS_REGION`, runtime.json, else us-east-1.
 * Credentials: the standard AWS chain when the environment or `--profile` names credentials,
 * else `<data-dir>/credentials` when it exists, else the standard chain (e.g. ~/.aws).
 */
export function resolveClientConfig(
  options: ClientOptions,
  env: CliEnvironment = cliEnvironment(),
): ClientConfig {
  const dataDir = resolve(options.dataDir ?? env.dataDir ?? DEFAULT_DATA_DIR);
  const runtime = readRuntime(dataDir);

  let endpoint: string;
  let endpointSource: EndpointSource;
  if (options.endpoint) {
    endpointSource = '--endpoint';
    endpoint = options.endpoint;
  } else if (env.trellisEndpoint) {
    endpointSource = 'TRELLIS_ENDPOINT';
    endpoint = env.trellisEndpoint;
  } else if (env.awsEndpointUrl) {
    endpointSource = 'AWS_ENDPOINT_URL';
    endpoint = env.awsEndpointUrl;
  } else if (runtime?.apiEndpoint) {
    endpointSource = 'runtime.json';
    endpoint = runtime.apiEndpoint;
  } else {
    throw new CliFailure(
      [
        `No Trellis endpoint found (no --endpoint, TRELLIS_ENDPOINT, AWS_ENDPOINT_URL or ${dataDir}/runtime.json).`,
      ],
      'Start one with `npx trellis up` or set TRELLIS_ENDPOINT (or pass --data-dir of a running Trellis).',
    );
  }
  endpoint = checkEndpoint(endpoint, endpointSource);

  const region = options.region ?? env.region ?? runtime?.region ?? DEFAULT_REGION;

  const credentialsFile = join(dataDir, 'credentials');
  const profile = options.profile ?? env.profile;
  let credentials: CredentialsProvider;
  let credentialsSource: CredentialsSource;
  if (options.profile || env.awsCredentialsConfigured || !existsSync(credentialsFile)) {
    credentialsSource = 'aws-chain';
    credentials = fromNodeProviderChain(profile ? { profile } : {});
  } else {
    credentialsSource = 'data-dir';
    credentials = fromIni({
      filepath: credentialsFile,
      configFilepath: join(dataDir, 'config'),
      profile: 'default',
    });
  }

  const output = resolveOutputFormat(options, env);
  return { endpoint, endpointSource, region, dataDir, credentials, credentialsSource, output };
}

/** The output format: `--output`, else `TRELLIS_OUTPUT`, else `table`. */
export function resolveOutputFormat(
  options: ClientOptions,
  env: CliEnvironment = cliEnvironment(),
): OutputFormat {
  const output = options.output ?? env.output ?? 'table';
  if (output !== 'table' && output !== 'json') {
    throw new CliFailure(
      [`TRELLIS_OUTPUT "${output}" is not an output format.`],
      'Use table or json.',
      2,
    );
  }
  return output;
}

/** A VPC Lattice SDK client for the resolved endpoint and credentials. */
export function createLatticeClient(config: ClientConfig): VPCLatticeClient {
  return new VPCLatticeClient({
    endpoint: config.endpoint,
    region: config.region,
    credentials: config.credentials,
  });
}
