/**
 * `npm run demo` / `trellis demo`: the e-commerce application of the VPC Lattice GA announcement,
 * running on this machine. Starts `trellis up` on a fresh data dir, starts the sample services,
 * configures everything through the AWS SDK (`setup.ts`), places an order through the Order
 * function and reports what happened; then stays up for exploring (or, with `--non-interactive`,
 * exits 0 when every check passed and 1 otherwise).
 *
 *   --non-interactive     exit after the report
 *   --data-dir <dir>      default ./.trellis-demo (wiped on start)
 *   --ingress <ip>        the data plane's address (Trellis's default VPC), default 127.0.0.1
 *   --api-port <port>     preferred API port, default 7700 (another one if taken)
 *   --listener-port <p>   preferred listener port of the services, default 8080 (idem)
 *   --https-port <p>      preferred port of Payment's HTTPS listener, default 8443 (idem)
 *   --canary-probes <n>   Delivery calls for the weighted split, default 50
 *   --report-file <file>  also write the report as JSON
 *
 * Every process it starts is stopped when it ends or is interrupted; sample services also exit
 * when the demo dies (their stdin closes), and a rerun stops a `trellis up` a killed run left.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, request } from 'node:http';
import { isIPv4 } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Sha256 } from '@aws-crypto/sha256-js';
import { ListTargetsCommand, VPCLatticeClient } from '@aws-sdk/client-vpc-lattice';
import { SignatureV4 } from '@smithy/signature-v4';
import { ORDER_ROLE, setUpEcommerce, trellis, type EcommerceSetup } from './setup.js';

// Trellis supports Node.js 20; the SDK's notice about its own future Node.js 22 requirement is not
// for demo users (bin/trellis.js silences it the same way).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ROOT = resolve(import.meta.dirname, '../..');
const HERE = import.meta.dirname;
const LOG_GROUP = '/trellis-demo/ecommerce';
const MARKER = 'trellis-demo.json';

const USAGE = `Usage: npm run demo -- [options]   (or: trellis demo [options])

Runs the e-commerce application of the VPC Lattice GA announcement on Trellis and reports what
happened; then stays up for exploring until Ctrl-C.

  --non-interactive     exit after the report: 0 when every check passed, 1 otherwise
  --data-dir <dir>      default ./.trellis-demo (wiped on start)
  --ingress <ip>        the data plane's address (Trellis's default VPC), default 127.0.0.1
  --api-port <port>     preferred API port, default 7700 (another one if taken)
  --listener-port <p>   preferred HTTP listener port of the services, default 8080 (idem)
  --https-port <p>      preferred port of Payment's HTTPS listener, default 8443 (idem)
  --canary-probes <n>   Delivery calls for the weighted split, default 50
  --report-file <file>  also write the report as JSON
`;

interface Options {
  nonInteractive: boolean;
  dataDir: string;
  ingress: string;
  apiPort: number;
  listenerPort: number;
  httpsPort: number;
  canaryProbes: number;
  reportFile?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    nonInteractive: false,
    dataDir: resolve('.trellis-demo'),
    ingress: '127.0.0.1',
    apiPort: 7700,
    listenerPort: 8080,
    httpsPort: 8443,
    canaryProbes: 50,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--non-interactive') o.nonInteractive = true;
    else if (a === '--data-dir') o.dataDir = resolve(next());
    else if (a === '--ingress') o.ingress = next();
    else if (a === '--api-port') o.apiPort = Number(next());
    else if (a === '--listener-port') o.listenerPort = Number(next());
    else if (a === '--https-port') o.httpsPort = Number(next());
    else if (a === '--canary-probes') o.canaryProbes = Number(next());
    else if (a === '--report-file') o.reportFile = resolve(next());
    else throw new Error(`unknown argument ${a} (see examples/ecommerce/demo.ts)`);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Child processes: every one is recorded (in memory and in the data dir) and stopped on exit.
// ---------------------------------------------------------------------------------------------

const children: { name: string; child: ChildProcess }[] = [];

function pidFile(dataDir: string): string {
  return join(dataDir, MARKER);
}

function recordPids(dataDir: string): void {
  const pids = children.map((c) => ({ name: c.name, pid: c.child.pid }));
  writeFileSync(pidFile(dataDir), JSON.stringify({ demo: process.pid, children: pids }, null, 2));
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

// ---------------------------------------------------------------------------------------------
// Network namespaces (as root): Inventory, Delivery and Payment each run in one, and their VPCs
// are those namespaces. Names derive from the data dir, so a re-run finds and removes what an
// interrupted run left; every exit path removes them (after the processes in them stopped).
// ---------------------------------------------------------------------------------------------

type DemoNamespaces = { inventory: string; delivery: string; payment: string };
let demoNamespaces: DemoNamespaces | undefined;

function namespacesFor(dataDir: string): DemoNamespaces {
  const h = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 6);
  return { inventory: `tdemo-${h}-inv`, delivery: `tdemo-${h}-dlv`, payment: `tdemo-${h}-pay` };
}

/** Root with iproute2: the VPCs can be real namespaces. */
function canUseNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function removeNamespaces(names: DemoNamespaces): void {
  for (const ns of Object.values(names)) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // not there
    }
  }
}

/**
 * The three namespaces with the announcement's addressing: Delivery and Payment overlap (both
 * 10.0.0.0/16, their targets both at 10.0.0.10); Inventory's target is IPv6 (fd00:1::10).
 */
function createNamespaces(names: DemoNamespaces): void {
  removeNamespaces(names);
  const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'ignore' });
  for (const ns of Object.values(names)) {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  ip('-n', names.inventory, 'addr', 'add', '10.1.0.10/32', 'dev', 'lo');
  ip('-n', names.inventory, '-6', 'addr', 'add', 'fd00:1::10/128', 'dev', 'lo', 'nodad');
  ip('-n', names.delivery, 'addr', 'add', '10.0.0.10/32', 'dev', 'lo');
  ip('-n', names.payment, 'addr', 'add', '10.0.0.10/32', 'dev', 'lo');
}

/** SIGTERM to each child, SIGKILL to those still running after `graceMs`. */
async function stopChildren(graceMs = 3_000): Promise<void> {
  const running = children.filter((c) => alive(c.child));
  const exited = running.map(
    (c) => new Promise<void>((r) => (alive(c.child) ? c.child.once('exit', () => r()) : r())),
  );
  for (const c of running) c.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const c of running) if (alive(c.child)) c.child.kill('SIGKILL');
  }, graceMs);
  await Promise.all(exited);
  clearTimeout(timer);
  if (demoNamespaces) removeNamespaces(demoNamespaces);
}

/** Stops what a previous run recorded, if those processes still run the demo's commands. */
async function stopLeftovers(dataDir: string): Promise<string[]> {
  let recorded: { children?: { name: string; pid?: number }[] };
  try {
    recorded = JSON.parse(readFileSync(pidFile(dataDir), 'utf8')) as typeof recorded;
  } catch {
    return [];
  }
  const stopped: string[] = [];
  for (const { name, pid } of recorded.children ?? []) {
    if (!pid) continue;
    let command = '';
    try {
      command = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    } catch {
      continue; // not running
    }
    // Only ours: a pid may have been reused by something else since.
    if (!command.includes(dataDir) && !command.includes(HERE)) continue;
    try {
      process.kill(pid, 'SIGTERM');
      stopped.push(`${name} (pid ${pid})`);
    } catch {
      continue;
    }
    for (let i = 0; i < 30; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await sleep(100);
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  return stopped;
}

/** Starts a sample service (a TypeScript file of this folder) and waits for `count` ready lines. */
async function startSample<T>(
  name: string,
  file: string,
  args: string[],
  env: Record<string, string>,
  dataDir: string,
  count = 1,
  netns?: string,
): Promise<T[]> {
  const command = [process.execPath, '--import', 'tsx', join(HERE, file), ...args];
  const argv = netns ? ['ip', 'netns', 'exec', netns, ...command] : command;
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push({ name, child });
  recordPids(dataDir);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise<T[]>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${err}`)), 40_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n').filter((l) => l.startsWith('{"ready"'));
      if (lines.length >= count) {
        clearTimeout(timer);
        resolveReady(lines.map((l) => JSON.parse(l) as T));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${err}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Ports and addresses
// ---------------------------------------------------------------------------------------------

function listenOnce(host: string, port: number): Promise<number | undefined> {
  return new Promise((r) => {
    const s = createServer();
    s.once('error', () => r(undefined));
    s.listen(port, host, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });
}

/** `wanted` when free on `host`, else any free port, with a line saying so. */
async function choosePort(
  host: string,
  wanted: number,
  what: string,
  say: (l: string) => void,
): Promise<number> {
  if (wanted !== 0 && (await listenOnce(host, wanted)) !== undefined) return wanted;
  const other = await listenOnce(host, 0);
  if (other === undefined) throw new Error(`no free port on ${host} for ${what}`);
  if (wanted !== 0) say(`port ${wanted} on ${host} is taken; using ${other} for ${what} instead`);
  return other;
}

/** Three addresses next to `ingress`, for the target VPCs' records (never listened on). */
function spareAddresses(ingress: string): string[] {
  if (!isIPv4(ingress)) return ['127.0.0.201', '127.0.0.202', '127.0.0.203'];
  const parts = ingress.split('.').map(Number);
  const last = parts[3]!;
  return [1, 2, 3].map((k) => [...parts.slice(0, 3), ((last - 1 + k * 17) % 254) + 1].join('.'));
}

// ---------------------------------------------------------------------------------------------
// Calls through the data plane
// ---------------------------------------------------------------------------------------------

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

interface Answer {
  status: number;
  text: string;
}

/** One HTTP request to `ingress:port` with `Host: host`, SigV4-signed when `credentials` given. */
async function latticeCall(o: {
  ingress: string;
  port: number;
  host: string;
  method: string;
  path: string;
  body?: string;
  credentials?: Credentials;
  region: string;
}): Promise<Answer> {
  let headers: Record<string, string> = { host: `${o.host}:${o.port}` };
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  if (o.credentials) {
    headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    const signer = new SignatureV4({
      service: 'vpc-lattice-svcs',
      region: o.region,
      credentials: o.credentials,
      sha256: Sha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
    const signed = await signer.sign({
      method: o.method,
      protocol: 'http:',
      hostname: o.host,
      path: o.path,
      headers,
    });
    headers = signed.headers as Record<string, string>;
  }
  return new Promise((res, reject) => {
    const req = request(
      { host: o.ingress, port: o.port, method: o.method, path: o.path, headers, agent: false },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () =>
          res({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        r.on('error', reject);
      },
    );
    req.setTimeout(45_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(o.body);
  });
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

interface SeenByTarget {
  identity: string | null;
  identityTags: string | null;
  sourceVpc: string | null;
  latticeTarget: string | null;
  host: string | null;
}

interface OrderCall {
  service: string;
  method: string;
  path: string;
  status: number;
  protocol?: string;
  ms: number;
  body?: { seen?: SeenByTarget; version?: string; task?: string } & Record<string, unknown>;
  text?: string;
}

interface OrderReport {
  orderId: string;
  status: string;
  invokedBy: Record<string, string> | null;
  calls: OrderCall[];
  canary: { calls: number; byVersion: Record<string, number> };
  forbidden?: OrderCall;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** What the demo found, as printed and as written by `--report-file`. */
export interface DemoReport {
  ok: boolean;
  checks: Check[];
  dataDir: string;
  apiEndpoint: string;
  ingress: string;
  listenerPort: number;
  /** Port of Payment's HTTPS listener (used when Payment got a certificate). */
  httpsPort: number;
  notes: string[];
  notYet: string[];
  /** Where the sample services listen (`address:port`; IPv6 in brackets). */
  samples?: { inventory: string; payment: string; deliveryTasks: string[]; alb: string[] };
  /** How the VPCs of Inventory, Delivery and Payment are made (namespaces need root). */
  vpcs?: {
    mode: 'network namespaces' | 'ingress addresses';
    namespaces?: { inventory: string; delivery: string; payment: string };
  };
  setup?: EcommerceSetup;
  order?: { status: number; body?: OrderReport; text: string };
  simulation?: { decision: string; message: string; explanation: string[] };
  accessLog?: { group: string; records: Record<string, unknown>[] };
  targetHealth?: Record<string, string[]>;
}

/** What Trellis does not do yet that the announcement's setup has; printed plainly. */
/** Said when Payment could not get a certificate (a Trellis without ACM / HTTPS listeners). */
const NO_HTTPS =
  'HTTPS listeners: this Trellis has no certificates (ACM) yet, so Payment serves its custom domain over HTTP (the announcement uses HTTPS with an ACM certificate).';
const NOT_YET = [
  'Accounts: Payment lives in a second account and is shared through a resource policy (docs/multi-vpc.md); Trellis has no AWS RAM shares, and Inventory and Delivery stay in the shop account.',
  "DNS: the demo does not run Trellis's DNS responder (trellis up --dns-listen, docs/multi-vpc.md); clients connect to their VPC's ingress address and send the service name as Host (trellis curl --connect-to).",
  'trellis top: no live dashboard yet; use trellis logs tail and GET /metrics.',
];

function readAccessLog(dataDir: string): Record<string, unknown>[] {
  // The CloudWatch Logs stand-in's layout: <data-dir>/logs/cloudwatch/<group>/*.jsonl.
  const dir = join(dataDir, 'logs', 'cloudwatch', encodeURIComponent(LOG_GROUP));
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.jsonl'))
      .sort();
  } catch {
    return [];
  }
  return files
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));

// ---------------------------------------------------------------------------------------------
// The demo
// ---------------------------------------------------------------------------------------------

/** Runs the demo with command-line `argv`; resolves to the exit status. */
export async function runDemo(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let o: Options;
  try {
    o = parseArgs(argv);
  } catch (err) {
    console.error(`demo: ${(err as Error).message}`);
    return 2;
  }
  const say = (line = ''): void => void process.stdout.write(`${line}\n`);
  const step = (n: number, text: string): void => say(`\n[${n}/6] ${text}`);
  const detail = (text: string): void => say(`      ${text}`);

  let reportDone = false;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping the demo's processes…`);
    void stopChildren().then(() => {
      say('Stopped. Run it again any time: it starts clean.');
      process.exit(reportDone ? 0 : 130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Last resort (an exception, process.exit elsewhere): no child outlives the demo.
  process.on('exit', () => {
    for (const c of children) if (alive(c.child)) c.child.kill('SIGKILL');
    if (demoNamespaces) removeNamespaces(demoNamespaces);
  });

  const shown = relative(process.cwd(), o.dataDir) || '.';
  const dirArg = shown.startsWith('..') ? o.dataDir : shown;
  say('Trellis e-commerce demo — the application of the VPC Lattice GA announcement:');
  say('Order (Lambda) calls Inventory (IPv6 target), Delivery (ALB, canary v1/v2) and Payment');
  say('(EC2 instance in another account, HTTPS on a custom domain) through one service network');
  say('with IAM auth.');

  const report: DemoReport = {
    ok: false,
    checks: [],
    dataDir: o.dataDir,
    apiEndpoint: '',
    ingress: o.ingress,
    listenerPort: 0,
    httpsPort: 0,
    notes: [],
    notYet: NOT_YET,
  };
  const note = (line: string): void => {
    report.notes.push(line);
    detail(line);
  };

  try {
    // 1. Trellis --------------------------------------------------------------------------------
    step(1, `Starting Trellis (data dir ${dirArg}, wiped first)`);
    if (existsSync(o.dataDir)) {
      const entries = readdirSync(o.dataDir);
      if (entries.length > 0 && !entries.includes(MARKER) && !entries.includes('trellis.db'))
        throw new Error(`${o.dataDir} is not a demo data dir; refusing to wipe it`);
      const stopped = await stopLeftovers(o.dataDir);
      if (stopped.length) note(`stopped what a previous run left: ${stopped.join(', ')}`);
      if (canUseNamespaces()) removeNamespaces(namespacesFor(o.dataDir));
      rmSync(o.dataDir, { recursive: true, force: true });
    }
    mkdirSync(o.dataDir, { recursive: true });
    recordPids(o.dataDir);
    const apiPort = await choosePort('127.0.0.1', o.apiPort, 'the Trellis API', note);
    const listenerPort = await choosePort(o.ingress, o.listenerPort, 'the service listeners', note);
    let httpsPort = await choosePort(o.ingress, o.httpsPort, "Payment's HTTPS listener", note);
    if (httpsPort === listenerPort) httpsPort = await choosePort(o.ingress, 0, '', note);
    report.httpsPort = httpsPort;
    report.listenerPort = listenerPort;
    const log = openSync(join(o.dataDir, 'trellis-up.log'), 'a');
    const up = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/trellis.js'),
        'up',
        '--data-dir',
        o.dataDir,
        '--api-listen',
        `127.0.0.1:${apiPort}`,
        '--dataplane-host',
        o.ingress,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, TRELLIS_LOG_LEVEL: 'warn', TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' },
        stdio: ['ignore', log, log],
      },
    );
    closeSync(log);
    children.push({ name: 'trellis up', child: up });
    recordPids(o.dataDir);
    const runtime = join(o.dataDir, 'runtime.json');
    // Trellis starts while the sample services start (step 2).
    const trellisReady = (async (): Promise<string> => {
      for (const deadline = Date.now() + 45_000; ; await sleep(50)) {
        if (!alive(up))
          throw new Error(
            `trellis up exited:\n${readFileSync(join(o.dataDir, 'trellis-up.log'), 'utf8')}`,
          );
        if (Date.now() > deadline) throw new Error('trellis up did not start within 45 s');
        try {
          return (JSON.parse(readFileSync(runtime, 'utf8')) as { apiEndpoint: string }).apiEndpoint;
        } catch {
          // not written yet
        }
      }
    })();
    trellisReady.catch(() => {}); // awaited below; no unhandled rejection meanwhile

    // 2. Sample services ------------------------------------------------------------------------
    step(2, 'Starting the sample services (examples/ecommerce/*.ts) while Trellis starts');
    const ns = canUseNamespaces() ? namespacesFor(o.dataDir) : undefined;
    if (ns) {
      createNamespaces(ns);
      demoNamespaces = ns;
      report.vpcs = { mode: 'network namespaces', namespaces: ns };
      note(
        `running as root: Inventory, Delivery and Payment run in real network namespaces (${ns.inventory}, ${ns.delivery}, ${ns.payment}) that are their VPCs; Delivery and Payment both use 10.0.0.0/16, each with its target at 10.0.0.10`,
      );
    } else {
      report.vpcs = { mode: 'ingress addresses' };
      report.notYet = [
        'Real VPCs (needs root): here the VPCs are inventory records with loopback ingress addresses, not network namespaces with overlapping CIDRs.',
        ...report.notYet,
      ];
      note(
        'not root: the VPCs are plain ingress addresses on loopback (run the demo as root to get real network namespaces with overlapping CIDRs)',
      );
    }
    let inventoryHost = ns ? 'fd00:1::10' : '::1';
    if (!ns && (await listenOnce('::1', 0)) === undefined) {
      inventoryHost = '127.0.0.1';
      note('IPv6 loopback (::1) is not available here: Inventory listens on 127.0.0.1 instead');
    }
    type Ready = { address: string; port: number };
    // The ALB starts with its backends' ports, so those are chosen first (free right now).
    const [p1, p2, p3] = [
      await choosePort('127.0.0.1', 0, '', say),
      await choosePort('127.0.0.1', 0, '', say),
      await choosePort('127.0.0.1', 0, '', say),
    ];
    type Alb = { address: string; listeners: { v1: number; v2: number } };
    const [[inventory], [payment], [v1a, v1b, v2a], [alb]] = await Promise.all([
      startSample<Ready>(
        'inventory',
        'inventory.ts',
        [],
        { HOST: inventoryHost },
        o.dataDir,
        1,
        ns?.inventory,
      ),
      startSample<Ready>(
        'payment',
        'payment.ts',
        [],
        ns ? { HOST: '10.0.0.10' } : {},
        o.dataDir,
        1,
        ns?.payment,
      ),
      startSample<Ready>(
        'delivery',
        'delivery.ts',
        [],
        { TASKS: `v1:a:${p1},v1:b:${p2},v2:a:${p3}` },
        o.dataDir,
        3,
        ns?.delivery,
      ),
      startSample<Alb>(
        'alb',
        'alb.ts',
        [`v1=127.0.0.1:${p1},127.0.0.1:${p2}`, `v2=127.0.0.1:${p3}`],
        ns ? { HOST: '10.0.0.10' } : {},
        o.dataDir,
        1,
        ns?.delivery,
      ),
    ]);
    if (!inventory || !payment || !v1a || !v1b || !v2a || !alb)
      throw new Error('a sample service did not report its address');
    const at = (r: Ready): string =>
      (r.address.includes(':') ? `[${r.address}]` : r.address) + `:${r.port}`;
    report.samples = {
      inventory: at(inventory),
      payment: at(payment),
      deliveryTasks: [at(v1a), at(v1b), at(v2a)],
      alb: [`${alb.address}:${alb.listeners.v1}`, `${alb.address}:${alb.listeners.v2}`],
    };
    detail(`inventory  ${at(inventory)}  (IPv6 target)`);
    detail(`delivery   v1 tasks ${at(v1a)}, ${at(v1b)} · v2 task ${at(v2a)}`);
    detail(
      `alb        ${alb.address}:${alb.listeners.v1} → v1, ${alb.address}:${alb.listeners.v2} → v2 (round robin)`,
    );
    detail(`payment    ${at(payment)}  (an "EC2 instance")`);

    const endpoint = await trellisReady;
    report.apiEndpoint = endpoint;
    const credentialsText = readFileSync(join(o.dataDir, 'credentials'), 'utf8');
    const credentials: Credentials = {
      accessKeyId: /aws_access_key_id\s*=\s*(\S+)/.exec(credentialsText)![1]!,
      secretAccessKey: /aws_secret_access_key\s*=\s*(\S+)/.exec(credentialsText)![1]!,
    };
    const region = 'us-east-1';
    detail(`Trellis: API ${endpoint} · data plane on ${o.ingress} · log ${dirArg}/trellis-up.log`);

    // 3. Setup ----------------------------------------------------------------------------------
    step(3, 'Configuring VPC Lattice through the AWS SDK (examples/ecommerce/setup.ts)');
    const setup = await setUpEcommerce({
      endpoint,
      region,
      credentials,
      ingress: o.ingress,
      listenerPort,
      httpsPort,
      caFile: join(o.dataDir, 'ca.pem'),
      inventory: { address: inventory.address, port: inventory.port },
      alb: { address: alb.address, v1Port: alb.listeners.v1, v2Port: alb.listeners.v2 },
      payment: { address: payment.address, port: payment.port },
      orderCodeDir: join(HERE, 'order'),
      logGroupName: LOG_GROUP,
      spareIngressAddresses: spareAddresses(o.ingress),
      ...(ns ? { namespaces: ns } : {}),
      progress: (l) => detail(`✓ ${l}`),
    });
    report.setup = setup;
    if (setup.paymentHttpReason) report.notYet = [NO_HTTPS, ...report.notYet];
    const orderHost = setup.services.order.host;
    // Served once anonymous callers get the network's 403 (before: 404 or refused).
    for (const deadline = Date.now() + 20_000; ; await sleep(100)) {
      const r = await latticeCall({
        ingress: o.ingress,
        port: listenerPort,
        host: orderHost,
        method: 'GET',
        path: '/',
        region,
      }).catch(() => undefined);
      if (r?.status === 403) break;
      if (Date.now() > deadline)
        throw new Error('the data plane did not serve the new configuration');
    }
    detail('✓ the data plane serves it');

    // 4. The order ------------------------------------------------------------------------------
    step(4, `Placing an order: POST /orders on the Order service (as you, the account admin)`);
    const orderAnswer = await latticeCall({
      ingress: o.ingress,
      port: listenerPort,
      host: orderHost,
      method: 'POST',
      path: '/orders',
      body: JSON.stringify({
        item: 'sku-42',
        quantity: 1,
        canaryProbes: o.canaryProbes,
        tryForbidden: true,
      }),
      credentials,
      region,
    });
    let orderBody: OrderReport | undefined;
    try {
      orderBody = JSON.parse(orderAnswer.text) as OrderReport;
    } catch {
      orderBody = undefined;
    }
    report.order = {
      status: orderAnswer.status,
      text: orderAnswer.text,
      ...(orderBody ? { body: orderBody } : {}),
    };
    detail(
      `HTTP ${orderAnswer.status}${orderBody ? ` · order ${orderBody.orderId} ${orderBody.status}` : ` ${orderAnswer.text}`}`,
    );

    // 5. What happened --------------------------------------------------------------------------
    step(5, 'What happened');
    const check = (name: string, ok: boolean, d = ''): void => {
      report.checks.push({ name, ok, detail: d });
    };
    check(
      'Order answered 200 and placed the order',
      orderAnswer.status === 200 && orderBody?.status === 'placed',
      `${orderAnswer.status}`,
    );
    const sessionPrefix = `Principal=arn:aws:sts::${setup.accountId}:assumed-role/${ORDER_ROLE}/${setup.functionName};`;
    if (orderBody) {
      say(`  you → order       POST /orders  ${orderAnswer.status}`);
      say(
        `      Order saw the caller: ${orderBody.invokedBy?.principal ?? '(no identity)'} (${orderBody.invokedBy?.type ?? '-'})`,
      );
      check(
        'Order saw the signed caller',
        (orderBody.invokedBy?.principal ?? '').startsWith('arn:'),
        orderBody.invokedBy?.principal ?? '',
      );
      const expected: Record<string, number> = { inventory: 200, delivery: 201, payment: 200 };
      for (const c of orderBody.calls) {
        const seen = c.body?.seen;
        const who =
          (c.body?.version ? ` (${c.body.version}/${c.body.task})` : '') +
          (c.protocol === 'HTTPS' ? ` over HTTPS (${setup.paymentDomain}, ACM certificate)` : '');
        say(
          `  order → ${pad(c.service, 10)} ${pad(`${c.method} ${c.path}`, 24)} ${c.status}${who}`,
        );
        say(`      target saw x-amzn-lattice-identity: ${seen?.identity ?? '(none)'}`);
        say(`      target saw x-amzn-source-vpc: ${seen?.sourceVpc ?? '(none)'}`);
        check(
          `${c.method} ${c.service}${c.path.split('?')[0]} → ${expected[c.service]}`,
          c.status === expected[c.service],
          `${c.status} ${c.text ?? ''}`,
        );
        check(
          `${c.service} saw the Order role session as identity`,
          (seen?.identity ?? '').startsWith(sessionPrefix) &&
            (seen?.identity ?? '').includes('Type=AWS_IAM'),
          seen?.identity ?? '(none)',
        );
      }
      if (setup.certificateArn) {
        const pay = orderBody.calls.find((c) => c.service === 'payment');
        check('Order reached Payment over HTTPS', pay?.protocol === 'HTTPS', pay?.protocol ?? '-');
      }
      const split = orderBody.canary.byVersion;
      const n = orderBody.canary.calls;
      const v1 = split.v1 ?? 0;
      const v2 = split.v2 ?? 0;
      const p = setup.canaryWeights.v2 / (setup.canaryWeights.v1 + setup.canaryWeights.v2);
      // Weighted choice is random per request: allow 4 standard deviations of the binomial.
      const tolerance = Math.ceil(4 * Math.sqrt(n * p * (1 - p)));
      say(
        `  Delivery canary: ${n} calls → v1 ${v1} (${Math.round((100 * v1) / Math.max(1, n))}%), v2 ${v2} (${Math.round((100 * v2) / Math.max(1, n))}%)  — rule weights ${setup.canaryWeights.v1}/${setup.canaryWeights.v2}`,
      );
      check(
        `canary split within ±${tolerance} of ${Math.round(n * p)} on v2`,
        v1 + v2 === n && Math.abs(v2 - n * p) <= tolerance,
        JSON.stringify(split),
      );
      const f = orderBody.forbidden;
      if (f) {
        say(
          `  order → inventory  POST /stock              ${f.status}  (denied, as the policy says)`,
        );
        say(`      ${(f.text ?? JSON.stringify(f.body)).trim()}`);
        check('POST /stock on Inventory → 403', f.status === 403, `${f.status}`);
        check(
          'denial names the Order session and the missing service-policy allow',
          (f.text ?? '').startsWith('AccessDeniedException: User: arn:aws:sts::') &&
            (f.text ?? '').includes('because no service-based policy allows'),
          f.text ?? '',
        );
      } else check('POST /stock on Inventory → 403', false, 'not attempted');
    }

    // Why: Trellis's auth simulator decides the same request and names the statements.
    const principal =
      /Principal=([^;]+)/.exec(orderBody?.calls[0]?.body?.seen?.identity ?? '')?.[1] ??
      setup.roleArn;
    try {
      const sim = (await trellis(
        { endpoint, region, credentials },
        'POST',
        '/_trellis/auth/simulate',
        {
          principal,
          service: setup.services.inventory.id,
          method: 'POST',
          path: '/stock',
        },
      )) as { decision: string; message: string; explanation: string[] };
      report.simulation = {
        decision: sim.decision,
        message: sim.message,
        explanation: sim.explanation,
      };
      say('  Why (POST /_trellis/auth/simulate, as `trellis auth simulate` shows it):');
      for (const l of sim.explanation) say(`      ${l}`);
      check('the simulator decides DENY for POST /stock', sim.decision === 'DENY', sim.decision);
    } catch (err) {
      check('the simulator decides DENY for POST /stock', false, String(err));
    }

    // Access logs: one record per request through the network.
    const expectedRecords =
      1 +
      (orderBody?.calls.length ?? 0) +
      (orderBody?.canary.calls ?? 0) +
      (orderBody?.forbidden ? 1 : 0);
    let records = readAccessLog(o.dataDir);
    for (let i = 0; i < 100 && records.length < expectedRecords; i++) {
      await sleep(100);
      records = readAccessLog(o.dataDir);
    }
    report.accessLog = { group: LOG_GROUP, records };
    const nameOf = new Map(Object.entries(setup.services).map(([k, v]) => [v.arn, k]));
    say(
      `  Access log ${LOG_GROUP}: ${records.length} records (${expectedRecords} expected); the non-canary ones:`,
    );
    for (const r of records) {
      if (String(r.requestPath).startsWith('/delivery/status/')) continue;
      const probe =
        r.callerPrincipal === '-' && r.requestPath === '/'
          ? '  ← the readiness probe (unsigned)'
          : '';
      say(
        `      ${r.responseCode} ${pad(`${r.requestMethod} ${r.requestPath}`, 26)} ${pad(nameOf.get(String(r.serviceArn)) ?? '-', 10)} target ${pad(String(r.targetIpPort), 22)} caller ${r.callerPrincipal}${r.authDeniedReason ? ` denied: ${r.authDeniedReason}` : ''}${probe}`,
      );
    }
    check(
      'access log has a record per request',
      records.length >= expectedRecords,
      `${records.length}/${expectedRecords}`,
    );
    const deniedRecord = records.find((r) => r.responseCode === 403 && r.requestPath === '/stock');
    check(
      'access log records the denial (authDeniedReason Service)',
      deniedRecord?.authDeniedReason === 'Service',
      JSON.stringify(deniedRecord ?? null),
    );

    // Target health as Lattice reports it (health checks on /health every 5 s).
    const lattice = new VPCLatticeClient({ endpoint, region, credentials });
    report.targetHealth = {};
    try {
      for (const [name, tg] of Object.entries(setup.targetGroups)) {
        // Payment's group belongs to the payments account: the shop's admin cannot see it.
        if (tg.arn.includes(`:${setup.paymentsAccountId}:`)) {
          report.targetHealth[name] = [`(owned by account ${setup.paymentsAccountId})`];
          continue;
        }
        const t = await lattice.send(new ListTargetsCommand({ targetGroupIdentifier: tg.id }));
        report.targetHealth[name] = (t.items ?? []).map(
          (i) => `${i.id}:${i.port ?? ''} ${i.status}`,
        );
      }
    } finally {
      lattice.destroy();
    }
    say(
      '  Target health (ListTargets; ALB and Lambda targets are not health checked, as in Lattice):',
    );
    for (const [name, items] of Object.entries(report.targetHealth))
      say(`      ${pad(name, 11)} ${items.join(' · ')}`);

    // 6. Summary --------------------------------------------------------------------------------
    step(6, 'Checks');
    for (const c of report.checks)
      say(`  ${c.ok ? '✓' : '✗'} ${c.name}${c.ok ? '' : `  (${c.detail})`}`);
    report.ok = report.checks.length > 0 && report.checks.every((c) => c.ok);
    say('\n  Not in Trellis yet (so not in this demo):');
    for (const l of report.notYet) say(`    - ${l}`);
    if (o.reportFile) writeFileSync(o.reportFile, JSON.stringify(report, null, 2));
    reportDone = true;

    if (o.nonInteractive) {
      say(`\n${report.ok ? 'All checks passed.' : 'Some checks failed.'} Stopping.`);
      await stopChildren();
      return report.ok ? 0 : 1;
    }

    const inv = setup.services.inventory.host;
    const d = `--data-dir ${dirArg}`;
    const conn = `--connect-to ${o.ingress}`;
    say(`\nTrellis and the services keep running. Try, in another shell:`);
    say(
      `  npx trellis curl ${d} ${conn} --role ${ORDER_ROLE} 'http://${inv}:${listenerPort}/stock?item=sku-42'`,
    );
    say(
      `  npx trellis curl ${d} ${conn} --role ${ORDER_ROLE} -X POST http://${inv}:${listenerPort}/stock     # 403`,
    );
    say(
      `  npx trellis curl ${d} ${conn} -X POST -H 'content-type: application/json' -d '{"item":"sku-42"}' http://${orderHost}:${listenerPort}/orders`,
    );
    say(
      `  npx trellis curl ${d} ${conn} --role ${ORDER_ROLE} -X POST -H 'content-type: application/json' -d '{}' ${setup.paymentUrl}/pay`,
    );
    say(
      `  npx trellis auth simulate ${d} --principal ${setup.roleArn} --service ${setup.services.inventory.id} --method POST --path /stock`,
    );
    say(`  npx trellis logs tail ${LOG_GROUP} ${d} --follow`);
    say(`  npx trellis targets list ${setup.targetGroups.inventory.id} ${d}`);
    say(
      `  npx trellis rule list ${d} --service ${setup.services.delivery.id} --listener ${setup.deliveryListenerId}     # the canary`,
    );
    say(`  curl ${endpoint}/metrics`);
    say('Press Ctrl-C to stop (every process the demo started stops with it).');
    await new Promise<never>(() => {});
    return 0;
  } catch (err) {
    // Interrupted: the signal handler stops the processes and exits; failures it causes are moot.
    if (stopping) return new Promise<number>(() => {});
    say(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}`);
    if (o.reportFile)
      writeFileSync(o.reportFile, JSON.stringify({ ...report, error: String(err) }, null, 2));
    await stopChildren();
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  void runDemo(process.argv.slice(2)).then((code) => process.exit(code));
}
