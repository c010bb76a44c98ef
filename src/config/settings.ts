import { DEFAULT_QUOTAS, type QuotaKey, type QuotaValues } from '../model/quotas.js';
import { ValidationException, type ValidationExceptionField } from '../errors/aws-errors.js';

/** Process settings of `trellis up` and its parts: load → validate → freeze. */
export interface Settings {
  /** Folder for the SQLite store, credentials, keys and logs. */
  readonly dataDir: string;
  /** `host:port` of the control-plane API (port 0 = any free port). */
  readonly apiListen: { readonly host: string; readonly port: number };
  readonly region: string;
  readonly partition: string;
  /** The default account, created on first start with an administrator access key. */
  readonly accountId: string;
  /** Ingress address of the default VPC (the data plane listens there). */
  readonly dataplaneHost: string;
  /** Whether this process runs the data plane next to the API. */
  readonly dataplane: boolean;
  /** SQLite synchronous mode: FULL fsyncs every commit. */
  readonly storeSynchronous: 'FULL' | 'NORMAL';
  readonly quotas: QuotaValues;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /**
   * The DNS responder (docs/multi-vpc.md): off (default), one `host:port` (queries there come from
   * the VPC owning `host`, else the default VPC), or `vpcs:port` (every VPC's ingress addresses).
   */
  readonly dnsListen:
    | { readonly mode: 'off' }
    | { readonly mode: 'address'; readonly host: string; readonly port: number }
    | { readonly mode: 'vpcs'; readonly port: number };
  /** Resolver for names that are not Lattice names; undefined → REFUSED. */
  readonly dnsUpstream: { readonly host: string; readonly port: number } | undefined;
}

/** Every setting with its flag, environment variable, default and description (for --help). */
export const SETTING_DESCRIPTIONS = [
  {
    key: 'dataDir',
    flag: '--data-dir',
    env: 'TRELLIS_DATA_DIR',
    default: './.trellis',
    help: 'folder for the store, credentials and logs',
  },
  {
    key: 'apiListen',
    flag: '--api-listen',
    env: 'TRELLIS_API_LISTEN',
    default: '127.0.0.1:7700',
    help: 'address of the control-plane API (host:port, port 0 = any free port)',
  },
  {
    key: 'region',
    flag: '--region',
    env: 'TRELLIS_REGION',
    default: 'us-east-1',
    help: 'the AWS region Trellis answers as',
  },
  {
    key: 'accountId',
    flag: '--account-id',
    env: 'TRELLIS_ACCOUNT_ID',
    default: '111122223333',
    help: 'the 12-digit id of the default account',
  },
  {
    key: 'dataplaneHost',
    flag: '--dataplane-host',
    env: 'TRELLIS_DATAPLANE_HOST',
    default: '127.0.0.1',
    help: 'ingress address of the default VPC',
  },
  {
    key: 'dataplane',
    flag: '--no-dataplane',
    env: 'TRELLIS_DATAPLANE',
    default: 'true',
    help: 'run the data plane in this process (true/false)',
  },
  {
    key: 'storeSynchronous',
    flag: '--store-synchronous',
    env: 'TRELLIS_STORE_SYNCHRONOUS',
    default: 'FULL',
    help: 'SQLite durability: FULL (fsync each commit) or NORMAL',
  },
  {
    key: 'dnsListen',
    flag: '--dns-listen',
    env: 'TRELLIS_DNS_LISTEN',
    default: 'off',
    help: 'DNS responder: off, host:port (port 0 = any free port) or vpcs:port (each VPC ingress address)',
  },
  {
    key: 'dnsUpstream',
    flag: '--dns-upstream',
    env: 'TRELLIS_DNS_UPSTREAM',
    default: 'refuse',
    help: 'resolver (host:port) for names that are not Lattice names, or refuse',
  },
  {
    key: 'logLevel',
    flag: '--log-level',
    env: 'TRELLIS_LOG_LEVEL',
    default: 'info',
    help: 'debug, info, warn, error or silent',
  },
] as const;

export type SettingsInput = Partial<
  Record<(typeof SETTING_DESCRIPTIONS)[number]['key'], string>
> & {
  /** Quota overrides by key (`TRELLIS_QUOTA_SERVICESPERREGION=20000`). */
  quotas?: Partial<Record<QuotaKey, string | number>>;
};

/** Reads settings from environment variables (only `config/` reads the environment). */
export function settingsFromEnv(env: Record<string, string | undefined>): SettingsInput {
  const out: SettingsInput = {};
  for (const d of SETTING_DESCRIPTIONS) {
    const v = env[d.env];
    if (v !== undefined && v !== '') (out as Record<string, string>)[d.key] = v;
  }
  const quotas: Partial<Record<QuotaKey, string>> = {};
  for (const key of Object.keys(DEFAULT_QUOTAS) as QuotaKey[]) {
    const v = env[`TRELLIS_QUOTA_${key.toUpperCase()}`];
    if (v) quotas[key] = v;
  }
  if (Object.keys(quotas).length) out.quotas = quotas;
  return out;
}

function parseListen(
  value: string,
  fields: ValidationExceptionField[],
  name = 'apiListen',
): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    fields.push({ name, message: `expected host:port, got "${value}"` });
    return { host: '127.0.0.1', port: 7700 };
  }
  return { host: (m[1] ?? m[2])!, port };
}

/** Validates and freezes settings; throws a ValidationException listing every bad field. */
export function loadSettings(input: SettingsInput): Settings {
  const fields: ValidationExceptionField[] = [];
  const pick = (key: (typeof SETTING_DESCRIPTIONS)[number]['key']): string =>
    input[key] ?? SETTING_DESCRIPTIONS.find((d) => d.key === key)!.default;

  const accountId = pick('accountId');
  if (!/^\d{12}$/.test(accountId)) fields.push({ name: 'accountId', message: 'must be 12 digits' });
  const region = pick('region');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    fields.push({ name: 'region', message: `"${region}" is not a region name like us-east-1` });
  }
  const sync = pick('storeSynchronous').toUpperCase();
  if (sync !== 'FULL' && sync !== 'NORMAL') {
    fields.push({ name: 'storeSynchronous', message: 'must be FULL or NORMAL' });
  }
  const logLevel = pick('logLevel');
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) {
    fields.push({ name: 'logLevel', message: 'must be debug, info, warn, error or silent' });
  }
  const dataplane = pick('dataplane');
  if (!['true', 'false'].includes(dataplane)) {
    fields.push({ name: 'dataplane', message: 'must be true or false' });
  }
  const quotas = {} as Record<QuotaKey, number>;
  for (const [key, def] of Object.entries(DEFAULT_QUOTAS) as [QuotaKey, { value: number }][]) {
    const raw = input.quotas?.[key];
    const n = raw === undefined ? def.value : Number(raw);
    if (!Number.isInteger(n) || n < 0) {
      fields.push({ name: `quotas.${key}`, message: 'must be a non-negative integer' });
    }
    quotas[key] = n;
  }
  const apiListen = parseListen(pick('apiListen'), fields);
  const dnsListenText = pick('dnsListen');
  let dnsListen: Settings['dnsListen'] = { mode: 'off' };
  if (dnsListenText.startsWith('vpcs:')) {
    const port = Number(dnsListenText.slice(5));
    if (!/^\d{1,5}$/.test(dnsListenText.slice(5)) || port > 65535)
      fields.push({ name: 'dnsListen', message: `expected vpcs:port, got "${dnsListenText}"` });
    dnsListen = { mode: 'vpcs', port };
  } else if (dnsListenText !== 'off') {
    dnsListen = { mode: 'address', ...parseListen(dnsListenText, fields, 'dnsListen') };
  }
  const dnsUpstreamText = pick('dnsUpstream');
  const dnsUpstream =
    dnsUpstreamText === 'refuse' ? undefined : parseListen(dnsUpstreamText, fields, 'dnsUpstream');
  if (fields.length) throw ValidationException.fromFields(fields);
  return Object.freeze({
    dataDir: pick('dataDir'),
    apiListen: Object.freeze(apiListen),
    region,
    partition: region.startsWith('cn-')
      ? 'aws-cn'
      : region.startsWith('us-gov-')
        ? 'aws-us-gov'
        : 'aws',
    accountId,
    dataplaneHost: pick('dataplaneHost'),
    dataplane: dataplane === 'true',
    storeSynchronous: sync as 'FULL' | 'NORMAL',
    quotas: Object.freeze(quotas),
    logLevel: logLevel as Settings['logLevel'],
    dnsListen: Object.freeze(dnsListen),
    dnsUpstream: dnsUpstream && Object.freeze(dnsUpstream),
  });
}
