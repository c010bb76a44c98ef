/**
 * `trellis auth simulate` (decide and explain a data-plane request, through `SimulateAuth`) and
 * `trellis curl` (call a service through the data plane, SigV4-signed as the Lattice samples sign:
 * service `vpc-lattice-svcs`, `x-amz-content-sha256: UNSIGNED-PAYLOAD`, path encoded once —
 * spec §2.2).
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Sha256 } from '@aws-crypto/sha256-js';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SignatureV4a } from '@aws-sdk/signature-v4a';
import { SignatureV4 } from '@smithy/signature-v4';
import { InvalidArgumentError, type Command } from 'commander';
import {
  CliCommand,
  clientAction,
  createGroup,
  withExamples,
  type CliRuntime,
  type CommandContext,
} from './cli-command.js';

/** Collects repeated `k=v` / `k: v` flags. */
function collectPair(value: string, previous: [string, string][] = []): [string, string][] {
  const colon = value.indexOf(':');
  const eq = value.indexOf('=');
  const at = colon > 0 && (eq < 0 || colon < eq) ? colon : eq;
  if (at <= 0)
    throw new InvalidArgumentError(`expected name=value or "Name: value", got "${value}".`);
  return [...previous, [value.slice(0, at).trim(), value.slice(at + 1).trim()]];
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535)
    throw new InvalidArgumentError('expected a port 1–65535.');
  return n;
}

interface SimulateOptions {
  principal: string;
  service: string;
  serviceNetwork?: string;
  method: string;
  path: string;
  header?: [string, string][];
  query?: [string, string][];
  sourceVpc?: string;
  sourceIp?: string;
  port?: number;
  sessionTag?: [string, string][];
}

interface Simulation {
  decision: string;
  explanation?: string[];
  identityHeaders?: Record<string, string>;
  notes?: string[];
}

async function runSimulate(ctx: CommandContext<SimulateOptions>): Promise<void> {
  const o = ctx.opts;
  const query: Record<string, string[]> = {};
  for (const [k, v] of o.query ?? []) (query[k] ??= []).push(v);
  const body = {
    principal: o.principal,
    service: o.service,
    method: o.method,
    path: o.path,
    ...(o.serviceNetwork ? { serviceNetwork: o.serviceNetwork } : {}),
    ...(o.header?.length ? { headers: Object.fromEntries(o.header) } : {}),
    ...(o.query?.length ? { query } : {}),
    ...(o.sourceVpc ? { sourceVpc: o.sourceVpc } : {}),
    ...(o.sourceIp ? { sourceIp: o.sourceIp } : {}),
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.sessionTag?.length ? { sessionTags: Object.fromEntries(o.sessionTag) } : {}),
  };
  const out = await ctx.trellis().request<Simulation>('POST', '/_trellis/auth/simulate', { body });
  if (ctx.output === 'json') return ctx.printResource(out);
  const lines = [...(out.explanation ?? [`Decision: ${out.decision}`])];
  for (const [name, value] of Object.entries(out.identityHeaders ?? {}))
    lines.push(`Target receives ${name}: ${value}`);
  for (const note of out.notes ?? []) lines.push(`Note: ${note}`);
  ctx.io.out(`${lines.join('\n')}\n`);
}

interface CurlOptions {
  request?: string;
  header?: [string, string][];
  data?: string;
  include?: boolean;
  fail?: boolean;
  role?: string;
  roleSessionName: string;
  sigv4a?: boolean;
  unsigned?: boolean;
  connectTo?: string;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The caller's credentials, or a session of `--role` assumed with them. */
async function curlCredentials(ctx: CommandContext<CurlOptions>): Promise<Credentials> {
  const c = ctx.config;
  const own = await c.credentials();
  const role = ctx.opts.role;
  if (role === undefined) return own;
  const sts = new STSClient({ endpoint: c.endpoint, region: c.region, credentials: own });
  try {
    let roleArn = role;
    if (!role.startsWith('arn:')) {
      const me = await sts.send(new GetCallerIdentityCommand({}));
      const partition = me.Arn?.split(':')[1] ?? 'aws';
      roleArn = `arn:${partition}:iam::${me.Account}:role/${role}`;
    }
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: ctx.opts.roleSessionName }),
    );
    const k = out.Credentials!;
    return {
      accessKeyId: k.AccessKeyId!,
      secretAccessKey: k.SecretAccessKey!,
      sessionToken: k.SessionToken!,
    };
  } finally {
    sts.destroy();
  }
}

function readData(ctx: CommandContext<CurlOptions>): string | undefined {
  const d = ctx.opts.data;
  if (d === undefined || !d.startsWith('@')) return d;
  try {
    return readFileSync(d.slice(1), 'utf8');
  } catch (err) {
    return ctx.usage(`cannot read ${d.slice(1)}: ${(err as Error).message}`);
  }
}

async function runCurl(ctx: CommandContext<CurlOptions>, args: string[]): Promise<void> {
  const o = ctx.opts;
  let url: URL;
  try {
    url = new URL(args[0] ?? '');
  } catch {
    return ctx.usage(
      `"${args[0] ?? ''}" is not a URL.`,
      'Give http://<service DNS name>[:port]/path.',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return ctx.usage(`${url.protocol} URLs are not supported.`, 'Use http:// or https://.');
  const body = readData(ctx);
  const method = (o.request ?? (body !== undefined ? 'POST' : 'GET')).toUpperCase();
  const headers: Record<string, string> = { host: url.host };
  for (const [k, v] of o.header ?? []) headers[k.toLowerCase()] = v;
  if (body !== undefined && headers['content-type'] === undefined)
    headers['content-type'] = 'application/x-www-form-urlencoded';
  if (!o.unsigned) {
    const credentials = await curlCredentials(ctx);
    // spec §2.2: payload signing is not supported; the literal is both header and payload hash.
    headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    const query: Record<string, string[]> = {};
    for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
    const spec = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      path: url.pathname,
      query,
      headers,
    };
    const common = {
      service: 'vpc-lattice-svcs',
      credentials,
      sha256: Sha256,
      uriEscapePath: false,
      applyChecksum: false,
    };
    const signed = o.sigv4a
      ? await new SignatureV4a({ ...common, region: '*' }).sign(spec, {})
      : await new SignatureV4({ ...common, region: ctx.config.region }).sign(spec);
    Object.assign(headers, signed.headers);
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const res = await new Promise<{ head: IncomingMessage; body: Buffer }>((resolve, reject) => {
    const req = send(
      {
        host: o.connectTo ?? url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        method,
        path: url.pathname + url.search,
        headers,
        servername: url.hostname,
        rejectUnauthorized: false,
      },
      (head) => {
        const chunks: Buffer[] = [];
        head.on('data', (c: Buffer) => chunks.push(c));
        head.on('end', () => resolve({ head, body: Buffer.concat(chunks) }));
        head.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  const status = `HTTP/${res.head.httpVersion} ${res.head.statusCode} ${res.head.statusMessage ?? ''}`;
  if (o.include) {
    const lines = [status.trimEnd()];
    const raw = res.head.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
    ctx.io.out(`${lines.join('\n')}\n\n`);
  } else {
    ctx.io.err(`${status.trimEnd()}\n`);
  }
  ctx.io.out(res.body.toString('utf8'));
  // curl's --fail: exit 22 on an HTTP error status.
  if (o.fail && (res.head.statusCode ?? 0) >= 400) process.exitCode = 22;
}

/** `trellis auth …`. */
export function authCommands(): CliCommand {
  const group = createGroup(
    'auth',
    'Data-plane auth: see how a request to an AWS_IAM service would be decided, and why.',
  );
  const simulate = withExamples(
    group
      .command('simulate')
      .description(
        'Decide a hypothetical request as the data plane would (identity, network and service policies), naming the statement that allowed or denied it.',
      )
      .requiredOption(
        '--principal <arn>',
        'caller: `anonymous`, or the ARN of a user, role (simulated as a session), assumed-role session or account root',
      )
      .requiredOption('--service <service>', 'service id, ARN or name')
      .option(
        '--service-network <network>',
        'service network id, ARN or name (default: the one the source VPC reaches it through)',
      )
      .option('--method <method>', 'HTTP method', 'GET')
      .option('--path <path>', 'request path', '/')
      .option('--header <name=value>', 'request header (repeatable)', collectPair)
      .option('--query <key=value>', 'query parameter (repeatable)', collectPair)
      .option('--source-vpc <vpc-id>', 'the client VPC')
      .option('--source-ip <ip>', 'client address (aws:SourceIp)')
      .option('--port <port>', 'listener port', parsePort)
      .option(
        '--session-tag <key=value>',
        'session tag of a simulated role session (repeatable)',
        collectPair,
      ),
    'trellis auth simulate --principal arn:aws:iam::111122223333:role/Order --service inventory --method GET --path /stock',
    'trellis auth simulate --principal anonymous --service svc-0123456789abcdef0 --path /admin --header x-debug=on',
  );
  clientAction<SimulateOptions>(simulate, (ctx) => runSimulate(ctx));
  return group;
}

/** `trellis curl`. */
export function curlCommand(): CliCommand {
  const cmd = new CliCommand('curl')
    .description(
      'Call a service through the data plane, SigV4-signed for vpc-lattice-svcs with your credentials (or a role session).',
    )
    .argument('<url>', 'http://<service DNS name or custom domain>[:port]/path[?query]')
    .option('-X, --request <method>', 'HTTP method (default GET, POST with -d)')
    .option('-H, --header <header>', 'request header "Name: value" (repeatable)', collectPair)
    .option('-d, --data <body>', 'request body (@file reads a file)')
    .option('-i, --include', 'print the status line and response headers')
    .option('-f, --fail', 'exit 22 when the status is 400 or above')
    .option('--role <role>', 'assume this role (name or ARN) and sign with its session')
    .option('--role-session-name <name>', 'session name for --role', 'trellis-curl')
    .option('--sigv4a', 'sign with SigV4A (region set *)')
    .option('--unsigned', 'send without a signature (the anonymous principal)')
    .option(
      '--connect-to <address>',
      'connect to this address (a VPC ingress) instead of resolving the host',
    )
    .showHelpAfterError('(run with --help for usage)') as CliCommand;
  withExamples(
    cmd,
    'trellis curl --role Order --connect-to 127.0.0.1 http://inventory-0123.7d67968.vpc-lattice-svcs.us-east-1.on.aws:8080/stock',
    "trellis curl -i -X POST -H 'content-type: application/json' -d '{\"id\":1}' http://delivery.example.com/delivery",
  );
  clientAction<CurlOptions>(cmd, (ctx, args) => runCurl(ctx, args));
  return cmd;
}

/** Adds `auth` and `curl` to the program. */
export function registerAuthCommands(program: Command, runtime?: CliRuntime): void {
  for (const c of [authCommands(), curlCommand()]) {
    if (runtime) c.runtime = runtime;
    program.addCommand(c);
  }
}
