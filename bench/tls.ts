/**
 * HTTPS listeners vs nginx with the same certificate, same machine, same run (ratios, not
 * absolute numbers, are what carry between machines). Run: `npx tsx bench/tls.ts` (needs nginx
 * and wrk). Both terminate TLS (TLS 1.3, the same RSA-2048 certificate for `localhost`) and proxy
 * to one nginx `return 200` origin over keep-alive HTTP/1.1:
 *  1. keep-alive throughput: wrk -t1 -c50 over HTTPS, interleaved rounds, median req/s, ratio;
 *  2. new handshakes per second: wrk with `Connection: close` (a full handshake per request).
 * Knobs: BENCH_ROUNDS (3), BENCH_DURATION_S (5). Every loop is bounded by rounds × duration.
 * BENCH_ONLY=keepalive|handshakes; BENCH_TRELLIS_NODE_OPTIONS (e.g. `--cpu-prof …`) for the proxies.
 * BENCH_BASELINE_REF=<commit>: also runs `trellis up` from a temporary `git worktree` of that
 * commit, configured the same way, in the same interleaved rounds (before/after figures).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateListenerCommand,
  CreateTargetGroupCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-vpc-lattice';
import {
  createRootCertificate,
  loadCertificateAuthority,
} from '../src/iam/x509/certificate-issuer.js';
import { startTrellis, type TrellisProcess } from '../test/support/trellis-process.js';
import { acmClient, importCert } from '../test/tls/tls-fixtures.js';
import {
  fmt,
  freePort,
  median,
  requireTools,
  sleep,
  spawnTracked,
  stopChild,
  toolVersion,
  trackTrellis,
} from './support/bench-kit.js';
import { createAssociatedService, createNetwork, defaultVpcId } from './support/lattice-setup.js';
import { startNginx } from './support/nginx.js';
import { runWrk, type WrkResult } from './support/wrk.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/**
 * nginx's TLS session settings. `default` (nginx's defaults: tickets on, no shared cache) matches
 * Node's TLS server defaults (tickets on, no internal cache), so both sides are configured the same
 * way; `off` turns tickets and the cache off in nginx only (the earlier runs). wrk never resumes a
 * session, so this only decides whether each side pays for issuing tickets.
 */
const SESSIONS = process.env.BENCH_TLS_SESSIONS === 'off' ? 'off' : 'default';
const SESSION_LINES =
  SESSIONS === 'off' ? '    ssl_session_cache off;\n    ssl_session_tickets off;' : '';
const DURATION = Number(process.env.BENCH_DURATION_S ?? 5);

requireTools([
  { bin: 'nginx', versionArgs: ['-v'] },
  { bin: 'wrk', versionArgs: ['-v'] },
]);

const root = createRootCertificate('Bench Root');
const leaf = loadCertificateAuthority(root).issue({ dnsNames: ['localhost'] });
const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-tls-'));
writeFileSync(join(dir, 'cert.pem'), leaf.certificatePem);
writeFileSync(join(dir, 'key.pem'), leaf.privateKeyPem);

/** nginx terminating TLS with the same certificate, proxying to the origin (1 worker). */
async function startTlsNginx(port: number, upstream: string): Promise<() => Promise<void>> {
  const prefix = mkdtempSync(join(tmpdir(), 'trellis-bench-nginx-tls-'));
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
  upstream origin { server ${upstream}; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${join(dir, 'cert.pem')};
    ssl_certificate_key ${join(dir, 'key.pem')};
    ssl_protocols TLSv1.2 TLSv1.3;
${SESSION_LINES}
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
  );
  const child = spawnTracked('nginx', ['-p', prefix, '-c', config, '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  await waitHttps(port, 'nginx');
  return async () => {
    await stopChild(child, 'SIGQUIT');
    rmSync(prefix, { recursive: true, force: true });
  };
}

function httpsStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: root.certificatePem,
        headers: { host: 'localhost' },
        agent: false,
        timeout: 2000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function waitHttps(port: number, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await httpsStatus(port)) === 200) return;
    await sleep(50);
  }
  throw new Error(`${what} does not answer HTTPS on ${port}`);
}

const origin = await startNginx({
  address: '127.0.0.1',
  port: await freePort(),
  workers: 1,
  role: { kind: 'origin' },
});
const nginxPort = await freePort();
const stopNginx = await startTlsNginx(nginxPort, `127.0.0.1:${origin.port}`);
/** A `trellis up` (from `root`, default this checkout) serving the origin over HTTPS on a port. */
async function startTrellisHttps(root?: string): Promise<{ proc: TrellisProcess; port: number }> {
  const port = await freePort();
  const proc = trackTrellis(
    await startTrellis({
      args: ['--dataplane-host', '127.0.0.1'],
      env: {
        TRELLIS_STORE_SYNCHRONOUS: 'NORMAL',
        // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the proxies under this load.
        ...(process.env.BENCH_TRELLIS_NODE_OPTIONS !== undefined
          ? { NODE_OPTIONS: process.env.BENCH_TRELLIS_NODE_OPTIONS }
          : {}),
      },
      ...(root !== undefined ? { root } : {}),
    }),
  );
  const lattice = proc.lattice();
  const acm = acmClient(proc);
  const vpcId = defaultVpcId(proc.accountId);
  const sn = await createNetwork(lattice, 'bench-tls', vpcId);
  const arn = await importCert(acm, { ...leaf, chainPem: '' });
  const svc = await createAssociatedService(lattice, sn.serviceNetworkId, 'bench-tls', {
    customDomainName: 'localhost',
    certificateArn: arn,
  });
  const tg = await lattice.send(
    new CreateTargetGroupCommand({
      name: 'bench-tls-origin',
      type: 'IP',
      config: {
        port: origin.port,
        protocol: 'HTTP',
        protocolVersion: 'HTTP1',
        vpcIdentifier: vpcId,
        healthCheck: { enabled: false },
      },
    }),
  );
  await lattice.send(
    new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets: [{ id: '127.0.0.1' }] }),
  );
  await lattice.send(
    new CreateListenerCommand({
      serviceIdentifier: svc.serviceId,
      name: 'https',
      protocol: 'HTTPS',
      port,
      defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: tg.id }] } },
    }),
  );
  await waitHttps(port, 'trellis');
  acm.destroy();
  lattice.destroy();
  return { proc, port };
}

const baselineRef = process.env.BENCH_BASELINE_REF;
let baselineDir: string | undefined;
const procs: TrellisProcess[] = [];
try {
  const current = await startTrellisHttps();
  procs.push(current.proc);
  const trellisPort = current.port;
  let baselinePort: number | undefined;
  if (baselineRef !== undefined) {
    baselineDir = mkdtempSync(join(tmpdir(), 'trellis-bench-baseline-'));
    execFileSync('git', ['worktree', 'add', '--detach', baselineDir, baselineRef], {
      stdio: 'ignore',
    });
    symlinkSync(join(process.cwd(), 'node_modules'), join(baselineDir, 'node_modules'));
    const before = await startTrellisHttps(baselineDir);
    procs.push(before.proc);
    baselinePort = before.port;
  }

  const run = (port: number, close: boolean): Promise<WrkResult> =>
    runWrk({
      url: `https://localhost:${port}/`,
      threads: 1,
      connections: close ? 20 : 50,
      durationSeconds: DURATION,
      ...(close ? { host: 'localhost\r\nConnection: close' } : {}),
    });
  const results: Record<string, number[]> = {
    nginxKeepAlive: [],
    trellisKeepAlive: [],
    beforeKeepAlive: [],
    nginxHandshakes: [],
    trellisHandshakes: [],
    beforeHandshakes: [],
  };
  const systems: [string, number, boolean][] = [
    ['nginxKeepAlive', nginxPort, false],
    ['trellisKeepAlive', trellisPort, false],
    ['nginxHandshakes', nginxPort, true],
    ['trellisHandshakes', trellisPort, true],
  ];
  if (baselinePort !== undefined) {
    systems.splice(2, 0, ['beforeKeepAlive', baselinePort, false]);
    systems.push(['beforeHandshakes', baselinePort, true]);
  }
  // BENCH_ONLY=keepalive|handshakes runs one of the two measures.
  const only = process.env.BENCH_ONLY;
  let command = '';
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, port, close] of systems) {
      if ((only === 'keepalive' && close) || (only === 'handshakes' && !close)) continue;
      const r = await run(port, close);
      if (r.non2xx > 0) throw new Error(`${name}: ${r.non2xx} non-2xx answers`);
      results[name]!.push(r.requestsPerSecond);
      command = r.command;
      console.error(
        `round ${round + 1} ${name}: ${fmt(r.requestsPerSecond, 0)} req/s (socket errors ${r.socketErrors})`,
      );
    }
  }
  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)])) as Record<
    string,
    number
  >;
  const out = {
    nginx: toolVersion('nginx', ['-v']),
    wrk: toolVersion('wrk', ['-v']),
    node: process.version,
    rounds: ROUNDS,
    nginxSessions: SESSIONS,
    durationSeconds: DURATION,
    keepAlive: {
      nginx: m.nginxKeepAlive,
      trellis: m.trellisKeepAlive,
      ratio: m.trellisKeepAlive! / m.nginxKeepAlive!,
    },
    handshakes: {
      nginx: m.nginxHandshakes,
      trellis: m.trellisHandshakes,
      ratio: m.trellisHandshakes! / m.nginxHandshakes!,
    },
    ...(baselinePort !== undefined
      ? {
          baseline: {
            ref: baselineRef,
            keepAlive: m.beforeKeepAlive,
            keepAliveRatio: m.beforeKeepAlive! / m.nginxKeepAlive!,
            handshakes: m.beforeHandshakes,
            handshakesRatio: m.beforeHandshakes! / m.nginxHandshakes!,
          },
        }
      : {}),
    rounds_raw: results,
    lastCommand: command,
  };
  console.log(JSON.stringify(out, null, 2));
} finally {
  for (const p of procs) await p.stop();
  if (baselineDir !== undefined)
    execFileSync('git', ['worktree', 'remove', '--force', baselineDir], { stdio: 'ignore' });
  await stopNginx();
  await origin.stop();
  rmSync(dir, { recursive: true, force: true });
}
