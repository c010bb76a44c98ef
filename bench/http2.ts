/**
 * HTTP/2 and gRPC unary throughput through an HTTPS listener, against the HTTP/1.1-over-TLS figure
 * of the same `trellis up` in the same run (issue #5 speed: "measured and written down against the
 * HTTP/1.1 figure"). Run: `npx tsx bench/http2.ts` (needs nginx and wrk).
 *
 * One service (custom domain `localhost`, certificate imported through ACM) with one HTTPS
 * listener: default → HTTP1 group (nginx `return 200`), `/h2/*` → HTTP2 group (nginx h2c
 * `return 200`), `/bench.Echo/*` → GRPC group (a @grpc/grpc-js server in its own process).
 * Measures, interleaved per round (median of BENCH_ROUNDS, default 5, each BENCH_DURATION_S, 5):
 *  - `wrk -t1 -c50` HTTP/1.1 over TLS (the issue's reference figure);
 *  - the same with a Node load client (bench/support/http2-load-worker.mjs in a worker thread —
 *    h2load is not installed), so the HTTP/2 rows are compared client for client;
 *  - HTTP/2 GET → HTTP1 group (downgrade), HTTP/2 GET → HTTP2 group, gRPC unary → GRPC group:
 *    50 streams in flight over 2 connections.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  CreateListenerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  RegisterTargetsCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import {
  createRootCertificate,
  loadCertificateAuthority,
} from '../src/iam/x509/certificate-issuer.js';
import { startTrellis } from '../test/support/trellis-process.js';
import { acmClient, importCert } from '../test/tls/tls-fixtures.js';
import {
  fmt,
  freePort,
  printResult,
  requireTools,
  saveResult,
  sleep,
  spawnTracked,
  stopChild,
  toolVersion,
  trackTrellis,
  type BenchResult,
} from './support/bench-kit.js';
import { createAssociatedService, createNetwork, defaultVpcId } from './support/lattice-setup.js';
import { startNginx } from './support/nginx.js';
import { runWrk } from './support/wrk.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION = Number(process.env.BENCH_DURATION_S ?? 5);
const CONCURRENCY = 50;
const H2_CONNECTIONS = 2;

requireTools([
  { bin: 'nginx', versionArgs: ['-v'] },
  { bin: 'wrk', versionArgs: ['-v'] },
]);

const root = createRootCertificate('Bench Root');
const leaf = loadCertificateAuthority(root).issue({ dnsNames: ['localhost'] });
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

/** nginx answering `return 200` over prior-knowledge HTTP/2 (h2c), 1 worker. */
async function startH2cOrigin(port: number): Promise<() => Promise<void>> {
  const prefix = mkdtempSync(join(tmpdir(), 'trellis-bench-nginx-h2c-'));
  const config = join(prefix, 'nginx.conf');
  writeFileSync(
    config,
    `${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  fastcgi_temp_path ${join(prefix, 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'uwsgi')};
  scgi_temp_path ${join(prefix, 'scgi')};
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port} http2;
    location / { default_type text/plain; return 200 "ok\\n"; }
  }
}
`,
  );
  const child = spawnTracked('nginx', ['-p', prefix, '-c', config, '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  await sleep(300);
  return async () => {
    await stopChild(child, 'SIGQUIT');
    rmSync(prefix, { recursive: true, force: true });
  };
}

/** The gRPC target in its own process; resolves with its port. */
async function startGrpcTarget(): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawnTracked(
    process.execPath,
    [join(import.meta.dirname, 'support', 'grpc-echo-target.mjs')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', () => reject(new Error('gRPC target exited')));
  });
  return { port, stop: () => stopChild(child) };
}

interface LoadResult {
  ok: number;
  failed: number;
  seconds: number;
}

function load(
  mode: 'h1' | 'h2' | 'grpc',
  port: number,
  path: string,
  ca: string,
): Promise<LoadResult> {
  const worker = new Worker(join(import.meta.dirname, 'support', 'http2-load-worker.mjs'), {
    workerData: {
      mode,
      port,
      host: 'localhost',
      ca,
      path,
      connections: mode === 'h1' ? CONCURRENCY : H2_CONNECTIONS,
      concurrency: CONCURRENCY,
      durationMs: DURATION * 1000,
    },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: LoadResult) => resolve(m));
    worker.once('error', reject);
  });
}

async function group(
  lattice: VPCLatticeClient,
  vpcId: string,
  name: string,
  protocolVersion: 'HTTP1' | 'HTTP2' | 'GRPC',
  port: number,
): Promise<string> {
  const tg = await lattice.send(
    new CreateTargetGroupCommand({
      name,
      type: 'IP',
      config: {
        port,
        protocol: 'HTTP',
        protocolVersion,
        vpcIdentifier: vpcId,
        healthCheck: { enabled: false },
      },
    }),
  );
  await lattice.send(
    new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets: [{ id: '127.0.0.1' }] }),
  );
  return tg.id!;
}

const origin = await startNginx({
  address: '127.0.0.1',
  port: await freePort(),
  workers: 1,
  role: { kind: 'origin' },
});
const h2cPort = await freePort();
const stopH2c = await startH2cOrigin(h2cPort);
const grpcTarget = await startGrpcTarget();
const proc = trackTrellis(
  await startTrellis({
    args: ['--dataplane-host', '127.0.0.1'],
    env: {
      TRELLIS_STORE_SYNCHRONOUS: 'NORMAL',
      // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the proxy under this load.
      ...(process.env.BENCH_TRELLIS_NODE_OPTIONS !== undefined
        ? { NODE_OPTIONS: process.env.BENCH_TRELLIS_NODE_OPTIONS }
        : {}),
    },
  }),
);
try {
  const lattice = proc.lattice();
  const acm = acmClient(proc);
  const vpcId = defaultVpcId(proc.accountId);
  const port = await freePort();
  const sn = await createNetwork(lattice, 'bench-h2', vpcId);
  const arn = await importCert(acm, { ...leaf, chainPem: '' });
  const svc = await createAssociatedService(lattice, sn.serviceNetworkId, 'bench-h2', {
    customDomainName: 'localhost',
    certificateArn: arn,
  });
  const h1 = await group(lattice, vpcId, 'bench-h1', 'HTTP1', origin.port);
  const h2 = await group(lattice, vpcId, 'bench-h2c', 'HTTP2', h2cPort);
  const g = await group(lattice, vpcId, 'bench-grpc', 'GRPC', grpcTarget.port);
  const listener = await lattice.send(
    new CreateListenerCommand({
      serviceIdentifier: svc.serviceId,
      name: 'https',
      protocol: 'HTTPS',
      port,
      defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: h1 }] } },
    }),
  );
  for (const [priority, prefix, tg] of [
    [1, '/h2/', h2],
    [2, '/bench.Echo/', g],
  ] as const)
    await lattice.send(
      new CreateRuleCommand({
        serviceIdentifier: svc.serviceId,
        listenerIdentifier: listener.id,
        name: `route-${priority}`,
        priority,
        match: { httpMatch: { pathMatch: { match: { prefix }, caseSensitive: true } } },
        action: { forward: { targetGroups: [{ targetGroupIdentifier: tg }] } },
      }),
    );
  acm.destroy();
  lattice.destroy();
  const ca = root.certificatePem;
  // Wait until every route answers (configuration propagates asynchronously).
  for (;;) {
    const probes = await Promise.all([
      load('h1', port, '/', ca).catch(() => ({ ok: 0, failed: 1, seconds: 0 })),
    ]);
    if (probes.every((p) => p.ok > 0 && p.failed === 0)) break;
    await sleep(200);
  }

  const measures: { name: string; run: () => Promise<{ rps: number; failed: number }> }[] = [
    {
      name: 'HTTP/1.1 over TLS (wrk -t1 -c50)',
      run: async () => {
        const r = await runWrk({
          url: `https://localhost:${port}/`,
          threads: 1,
          connections: CONCURRENCY,
          durationSeconds: DURATION,
        });
        return { rps: r.requestsPerSecond, failed: r.non2xx + r.socketErrors };
      },
    },
    ...(
      [
        ['HTTP/1.1 over TLS (Node client, 50 connections)', 'h1', '/'],
        ['HTTP/2 → HTTP1 group (downgrade)', 'h2', '/'],
        ['HTTP/2 → HTTP2 group (h2c target)', 'h2', '/h2/'],
        ['gRPC unary → GRPC group', 'grpc', '/bench.Echo/Unary'],
      ] as const
    ).map(([name, mode, path]) => ({
      name,
      run: async () => {
        const r = await load(mode, port, path, ca);
        return { rps: r.ok / r.seconds, failed: r.failed };
      },
    })),
  ];
  // BENCH_ONLY=<text>: only the measures whose name contains it (plus the wrk reference).
  const only = process.env.BENCH_ONLY;
  if (only !== undefined)
    measures.splice(1, measures.length, ...measures.slice(1).filter((m) => m.name.includes(only)));
  const raw: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++)
    for (const m of measures) {
      const r = await m.run();
      if (r.failed > 0) throw new Error(`${m.name}: ${r.failed} failed requests`);
      (raw[m.name] ??= []).push(r.rps);
      console.error(`round ${round + 1} ${m.name}: ${fmt(r.rps, 0)} req/s`);
    }
  const med = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, median(v)]));
  // The host is shared and loaded: ratios are taken within each round (the measures of a round
  // ran back to back), then the median of those ratios is reported.
  const ratio = (name: string, base: string): number =>
    median(raw[name]!.map((v, i) => v / raw[base]![i]!));
  const wrkName = measures[0]!.name;
  const nodeName = measures[1]!.name;
  const result: BenchResult = {
    bench: 'http2',
    commands: [
      'npx tsx bench/http2.ts',
      `wrk -t1 -c${CONCURRENCY} -d${DURATION}s --latency https://localhost:<port>/`,
      `bench/support/http2-load-worker.mjs: ${CONCURRENCY} in flight, ${H2_CONNECTIONS} HTTP/2 connections`,
    ],
    figures: measures.map((m) => ({
      name: m.name,
      value: med[m.name]!,
      unit: 'req/s',
      note:
        m.name === wrkName
          ? 'reference'
          : `${fmt(ratio(m.name, wrkName))}× wrk HTTP/1.1, ${fmt(ratio(m.name, nodeName))}× Node-client HTTP/1.1 (median of per-round ratios)`,
    })),
    details: [
      `machine: ${readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? '?'}; node ${process.version}; ${toolVersion('nginx', ['-v'])}; ${toolVersion('wrk', ['-v'])}`,
      `rounds ${ROUNDS} × ${DURATION}s, interleaved; medians; raw: ${JSON.stringify(raw)}`,
    ],
  };
  saveResult(result);
  printResult(result);
} finally {
  await proc.stop();
  await grpcTarget.stop();
  await stopH2c();
  await origin.stop();
}
