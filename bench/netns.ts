/**
 * Namespace VPCs (issue 8 §1, speed): throughput through a namespace VPC against the plain
 * ingress-address figure in the same run (target ≥ 0.8×), DNS p99 inside the namespace
 * (target < 1 ms) and the idle cost of 100 attached namespace VPCs (target: RSS growth < 100 MB).
 *
 * Run (as root): `npx tsx bench/netns.ts`. Needs `ip`, `wrk`, `nginx`. Env: `BENCH_ROUNDS`
 * (default 3), `BENCH_SECONDS` (default 8), `BENCH_NETNS_VPCS` (default 100).
 *
 * - Plain: `wrk` on the host → the data plane on a loopback ingress address → nginx origin (one
 *   worker) on host loopback.
 * - Namespace: `ip netns exec <ns> wrk` → the VPC's Lattice address 169.254.171.N (veth into the
 *   namespace) → the data plane → nginx origin (one worker) at 10.0.0.10 inside the namespace.
 *   Same Trellis process, same chain shape (health-checked IP target group), interleaved rounds.
 * - DNS: a UDP client inside the namespace asks the Lattice address (port 53) one query at a time,
 *   rotating over 20 source addresses so the per-source limit (200/s) never applies; the same
 *   client on the host asks the same address (no veth) in alternate rounds, as the baseline.
 * - Idle cost: a second `trellis up`; RSS (VmRSS of the process — there are no per-VPC processes)
 *   before and after 100 namespace VPCs are created, associated with a network whose service has
 *   an HTTP listener (so the data plane listens and DNS binds on each Lattice address), then idle.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import {
  CreateListenerCommand,
  CreateServiceNetworkVpcAssociationCommand,
} from '@aws-sdk/client-vpc-lattice';
import { inventoryCall } from '../test/support/inventory-client.js';
import { startTrellis, type TrellisProcess } from '../test/support/trellis-process.js';
import {
  fmt,
  freePort,
  median,
  printResult,
  progress,
  quantile,
  randomLoopback,
  requireTools,
  saveResult,
  sleep,
  trackTrellis,
  type BenchResult,
} from './support/bench-kit.js';
import {
  createAssociatedService,
  createNetwork,
  createProxyChain,
  defaultVpcId,
  waitHealthy,
} from './support/lattice-setup.js';
import { startNginx } from './support/nginx.js';
import { runWrk, type WrkResult } from './support/wrk.js';

const run$ = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const IDLE_VPCS = Number(process.env.BENCH_NETNS_VPCS ?? 100);
const DNS_QUERIES = 5000;
const DNS_SOURCES = 20;

async function ip(...args: string[]): Promise<void> {
  await run$('ip', args);
}

/** `ip netns exec ns wrk …` (wrk's own parser, through a tiny shim that execs in the namespace). */
async function wrkIn(ns: string, url: string, host: string): Promise<WrkResult> {
  const shimDir = mkdtempSync(join(tmpdir(), 'trellis-bench-netns-'));
  const shim = join(shimDir, 'wrk');
  const real = execFileSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).trim();
  writeFileSync(shim, `#!/bin/sh\nexec ip netns exec ${ns} ${real} "$@"\n`, { mode: 0o755 });
  const path = process.env.PATH;
  process.env.PATH = `${shimDir}:${path}`;
  try {
    return await runWrk({ url, host, threads: 1, connections: 50, durationSeconds: SECONDS });
  } finally {
    process.env.PATH = path;
    rmSync(shimDir, { recursive: true, force: true });
  }
}

async function createNamespaceVpc(proc: TrellisProcess, name: string): Promise<string> {
  const res = await inventoryCall(proc, 'POST', '/_trellis/vpcs', {
    cidrBlocks: ['10.0.0.0/24'],
    networkNamespace: { name },
  });
  if (res.status !== 201) throw new Error(`CreateVpc: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body!.vpcId as string;
}

/** The Lattice address Trellis wrote into the namespace's resolv.conf (once attached). */
async function latticeAddressOf(ns: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const m = /nameserver\s+(\S+)/.exec(readFileSync(`/etc/netns/${ns}/resolv.conf`, 'utf8'));
      if (m) return m[1]!;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`namespace ${ns} not attached`);
    await sleep(50);
  }
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

/** The DNS client run inside the namespace: sequential A queries, latencies in µs as JSON. */
const DNS_CLIENT = `
const dgram = require('dgram');
const [server, name, total, sources] = [process.argv[1], process.argv[2], +process.argv[3], process.argv[4].split(',')];
function query(id) {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const head = Buffer.alloc(12); head.writeUInt16BE(id, 0); head.writeUInt16BE(0x0100, 2); head.writeUInt16BE(1, 4);
  return Buffer.concat([head, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}
(async () => {
  const socks = await Promise.all(sources.map((a) => new Promise((r) => { const s = dgram.createSocket('udp4'); s.bind({ address: a, port: 0 }, () => r(s)); })));
  const lat = []; let bad = 0;
  for (let i = 0; i < total; i++) {
    const s = socks[i % socks.length]; const q = query(i & 0xffff);
    const t = process.hrtime.bigint();
    const ok = await new Promise((r) => {
      const timer = setTimeout(() => { s.removeAllListeners('message'); r(false); }, 1000);
      s.once('message', (m) => { clearTimeout(timer); r((m[3] & 15) === 0 && m.readUInt16BE(6) > 0); });
      s.send(q, 53, server);
    });
    const us = Number(process.hrtime.bigint() - t) / 1000;
    if (ok) lat.push(us); else bad++;
  }
  socks.forEach((s) => s.close());
  console.log(JSON.stringify({ lat, bad }));
})();
`;

export async function run(): Promise<BenchResult> {
  if (process.getuid?.() !== 0) {
    // `npm run bench` as a user: say why there are no figures instead of failing the suite.
    const skipped: BenchResult = {
      bench: 'netns',
      commands: ['sudo npx tsx bench/netns.ts'],
      figures: [],
      details: ['skipped: namespace VPCs need root (network namespaces, veth pairs, routes)'],
    };
    saveResult(skipped);
    return skipped;
  }
  requireTools([
    { bin: 'wrk', versionArgs: ['-v'] },
    { bin: 'nginx', versionArgs: ['-v'] },
    { bin: 'ip', versionArgs: ['-V'] },
  ]);
  const started = Date.now();
  const tag = randomBytes(3).toString('hex');
  const ns = `bn${tag}`;
  const details: string[] = [];
  const figures: BenchResult['figures'] = [];

  // ---- throughput: plain ingress vs namespace VPC, one Trellis, interleaved ----
  const ingress = randomLoopback();
  const originAddress = randomLoopback();
  const plainOrigin = await startNginx({
    address: originAddress,
    port: await freePort(originAddress),
    workers: 1,
    role: { kind: 'origin' },
  });
  const proc = trackTrellis(await startTrellis({ args: ['--dataplane-host', ingress] }));
  let nsOrigin: Awaited<ReturnType<typeof startNginx>> | undefined;
  try {
    const lattice = proc.lattice();
    const plainPort = await freePort(ingress);
    const plain = await createProxyChain(lattice, {
      name: 'plain',
      vpcId: defaultVpcId(proc.accountId),
      upstream: { address: plainOrigin.address, port: plainOrigin.port },
      listenerPort: plainPort,
    });
    const vpcId = await createNamespaceVpc(proc, ns);
    const latticeAddress = await latticeAddressOf(ns);
    await ip('-n', ns, 'addr', 'add', '10.0.0.10/32', 'dev', 'lo');
    for (let i = 0; i < DNS_SOURCES; i++)
      await ip('-n', ns, 'addr', 'add', `10.0.0.${100 + i}/32`, 'dev', 'lo');
    nsOrigin = await startNginx({
      address: '10.0.0.10',
      port: 8080,
      workers: 1,
      role: { kind: 'origin' },
      netns: ns,
      probeFrom: latticeAddress,
    });
    const nsPort = plainPort; // same listener port, on the Lattice address
    const inNs = await createProxyChain(lattice, {
      name: 'netns',
      vpcId,
      upstream: { address: '10.0.0.10', port: 8080 },
      listenerPort: nsPort,
    });
    await waitHealthy(lattice, plain.targetGroupId);
    await waitHealthy(lattice, inNs.targetGroupId);
    progress(started, `chains ready (namespace ${ns}, Lattice address ${latticeAddress})`);

    const plainRps: number[] = [];
    const nsRps: number[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      const a = await runWrk({
        url: `http://${ingress}:${plainPort}/`,
        host: plain.host,
        threads: 1,
        connections: 50,
        durationSeconds: SECONDS,
      });
      const b = await wrkIn(ns, `http://${latticeAddress}:${nsPort}/`, inNs.host);
      const bad = a.non2xx + a.socketErrors + b.non2xx + b.socketErrors;
      details.push(
        `round ${round}${round === 0 ? ' (warm-up)' : ''}: plain ${fmt(a.requestsPerSecond, 0)} req/s, namespace ${fmt(b.requestsPerSecond, 0)} req/s, ratio ${fmt(b.requestsPerSecond / a.requestsPerSecond)}${bad ? ` (non-2xx/socket errors: ${bad})` : ''}`,
      );
      progress(started, details[details.length - 1]!);
      if (round > 0) {
        plainRps.push(a.requestsPerSecond);
        nsRps.push(b.requestsPerSecond);
      }
    }
    const ratio = median(nsRps) / median(plainRps);
    figures.push(
      { name: 'throughput, plain ingress (median req/s)', value: median(plainRps), unit: 'req/s' },
      { name: 'throughput, namespace VPC (median req/s)', value: median(nsRps), unit: 'req/s' },
      {
        name: 'namespace / plain throughput',
        value: ratio,
        unit: '×',
        target: '≥ 0.8',
        pass: ratio >= 0.8,
      },
    );

    // ---- DNS inside the namespace, and the same responder asked from the host (no veth) ----
    const nsSources = Array.from({ length: DNS_SOURCES }, (_, i) => `10.0.0.${100 + i}`);
    const hostSources = Array.from({ length: DNS_SOURCES }, (_, i) => `127.0.0.${100 + i}`);
    const dnsRun = async (inside: boolean): Promise<{ lat: number[]; bad: number }> => {
      const args = [
        '-e',
        DNS_CLIENT,
        latticeAddress,
        inNs.host,
        String(DNS_QUERIES / 2),
        (inside ? nsSources : hostSources).join(','),
      ];
      const { stdout } = inside
        ? await run$('ip', ['netns', 'exec', ns, process.execPath, ...args], {
            maxBuffer: 64 * 1024 * 1024,
          })
        : await run$(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 });
      const r = JSON.parse(stdout) as { lat: number[]; bad: number };
      return { lat: r.lat.slice(250), bad: r.bad }; // first 250 of each run: warm-up
    };
    const inside: number[] = [];
    const host: number[] = [];
    let bad = 0;
    for (let round = 0; round < 2; round++) {
      const a = await dnsRun(true);
      const b = await dnsRun(false);
      inside.push(...a.lat);
      host.push(...b.lat);
      bad += a.bad + b.bad;
    }
    const p50 = quantile(inside, 0.5) / 1000;
    const p99 = quantile(inside, 0.99) / 1000;
    const hostP50 = quantile(host, 0.5) / 1000;
    const hostP99 = quantile(host, 0.99) / 1000;
    details.push(
      `DNS: 2 interleaved rounds of ${DNS_QUERIES / 2} sequential A queries to ${latticeAddress}:53, from inside ${ns} and from the host (same responder, same VPC, no veth), each over ${DNS_SOURCES} source addresses, first 250 of each run dropped as warm-up; ${bad} unanswered or not NOERROR with an answer; host side p50 ${fmt(hostP50, 3)} ms, p99 ${fmt(hostP99, 3)} ms`,
    );
    figures.push(
      { name: 'DNS in the namespace, p50', value: p50, unit: 'ms' },
      {
        name: 'DNS in the namespace, p99',
        value: p99,
        unit: 'ms',
        target: '< 1 ms',
        pass: p99 < 1 && bad === 0,
      },
      { name: 'DNS from the host, same responder, p99', value: hostP99, unit: 'ms' },
    );
    progress(
      started,
      `DNS in namespace p50 ${fmt(p50, 3)} ms, p99 ${fmt(p99, 3)} ms; from host p99 ${fmt(hostP99, 3)} ms`,
    );
  } finally {
    await nsOrigin?.stop();
    await proc.stop();
    await plainOrigin.stop();
    await run$('ip', ['netns', 'del', ns]).catch(() => undefined);
  }

  // ---- idle cost of many attached namespace VPCs ----
  const idle = trackTrellis(await startTrellis({ env: { TRELLIS_LOG_LEVEL: 'warn' } }));
  const names: string[] = [];
  try {
    const lattice = idle.lattice();
    const pid = idle.child.pid!;
    const sn = await createNetwork(lattice, 'idle-sn', defaultVpcId(idle.accountId));
    const svc = await createAssociatedService(lattice, sn.serviceNetworkId, 'idle-svc');
    await lattice.send(
      new CreateListenerCommand({
        serviceIdentifier: svc.serviceId,
        name: 'idle-l',
        protocol: 'HTTP',
        port: 80,
        defaultAction: { fixedResponse: { statusCode: 404 } },
      }),
    );
    await sleep(3000);
    const before = rssMb(pid);
    const t0 = Date.now();
    for (let i = 0; i < IDLE_VPCS; i++) {
      const name = `bi${tag}-${i}`;
      names.push(name);
      const vpcId = await createNamespaceVpc(idle, name);
      await lattice.send(
        new CreateServiceNetworkVpcAssociationCommand({
          serviceNetworkIdentifier: sn.serviceNetworkId,
          vpcIdentifier: vpcId,
        }),
      );
    }
    for (const name of names) await latticeAddressOf(name, 120_000);
    const attachSeconds = (Date.now() - t0) / 1000;
    progress(started, `${IDLE_VPCS} namespace VPCs attached in ${fmt(attachSeconds, 1)} s`);
    await sleep(10_000); // idle
    const after = rssMb(pid);
    const growth = after - before;
    const links = readdirSync('/sys/class/net').filter((l) => l.startsWith('tlat')).length;
    details.push(
      `idle: RSS ${fmt(before, 1)} MB before, ${fmt(after, 1)} MB with ${IDLE_VPCS} namespace VPCs attached and idle 10 s (one process; ${links} tlat* links on the host); created, associated and attached in ${fmt(attachSeconds, 1)} s`,
    );
    figures.push(
      {
        name: `RSS growth with ${IDLE_VPCS} namespace VPCs attached`,
        value: growth,
        unit: 'MB',
        target: '< 100 MB',
        pass: growth < 100,
      },
      {
        name: `time to create + attach ${IDLE_VPCS} namespace VPCs`,
        value: attachSeconds,
        unit: 's',
      },
    );
  } finally {
    await idle.stop();
    for (const name of names) await run$('ip', ['netns', 'del', name]).catch(() => undefined);
  }
  const left = (await run$('ip', ['netns', 'list'])).stdout
    .split('\n')
    .filter((l) => l.startsWith(`bi${tag}`) || l.startsWith(ns)).length;
  details.push(`namespaces left after both Trellis processes stopped: ${left}`);

  const result: BenchResult = {
    bench: 'netns',
    commands: [
      'npx tsx bench/netns.ts',
      `wrk -t1 -c50 -d${SECONDS}s --latency (host → ingress; ip netns exec <ns> wrk → Lattice address)`,
    ],
    figures,
    details,
  };
  saveResult(result);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const result = await run();
  printResult(result);
  for (const d of result.details) console.log(`  ${d}`);
}
