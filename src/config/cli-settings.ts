/**
 * What the `trellis` client commands take from the environment (only `config/` reads it).
 * The client commands resolve flags first, then these values, then the local data dir.
 */
export interface CliEnvironment {
  /** `TRELLIS_ENDPOINT`: the Trellis API endpoint, e.g. `http://127.0.0.1:7700`. */
  readonly trellisEndpoint?: string;
  /** `AWS_ENDPOINT_URL_VPC_LATTICE`, else `AWS_ENDPOINT_URL` (the SDK-wide override). */
  readonly awsEndpointUrl?: string;
  /** `TRELLIS_DATA_DIR`: where a local `trellis up` keeps runtime.json and credentials. */
  readonly dataDir?: string;
  /** `AWS_REGION`, else `AWS_DEFAULT_REGION`. */
  readonly region?: string;
  /** `AWS_PROFILE`. */
  readonly profile?: string;
  /**
   * Whether the environment explicitly configures AWS credentials (keys, a profile, a
   * credentials file, web identity or container credentials). When it does, the standard AWS
   * provider chain wins over the data dir's credentials file.
   */
  readonly awsCredentialsConfigured: boolean;
  /** `TRELLIS_OUTPUT`: default output format (`table` or `json`). */
  readonly output?: string;
}

/** Environment variables that mean "the caller chose AWS credentials on purpose". */
const CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_PROFILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
] as const;

/** Reads the client commands' settings from environment variables (default: this process's). */
export function cliEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
): CliEnvironment {
  const pick = (...names: string[]): string | undefined => {
    for (const n of names) {
      const v = env[n]?.trim();
      if (v) return v;
    }
    return undefined;
  };
  return Object.freeze({
    trellisEndpoint: pick('TRELLIS_ENDPOINT'),
    awsEndpointUrl: pick('AWS_ENDPOINT_URL_VPC_LATTICE', 'AWS_ENDPOINT_URL'),
    dataDir: pick('TRELLIS_DATA_DIR'),
    region: pick('AWS_REGION', 'AWS_DEFAULT_REGION'),
    profile: pick('AWS_PROFILE'),
    awsCredentialsConfigured: CREDENTIAL_VARIABLES.some((n) => Boolean(env[n]?.trim())),
    output: pick('TRELLIS_OUTPUT'),
  });
}
