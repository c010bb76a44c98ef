/**
 * Data-plane throughput: requests/s through (a) nothing (client → upstream), (b) a naive
 * node:http + undici proxy, (c) the Trellis data plane; one process each, keep-alive clients.
 *
 *   [BENCH_LOAD=wrk] node --import tsx bench/dataplane/proxy-throughput.ts [seconds] [connections] [rounds]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';

const self = fileURLToPath(import.meta.url);
const role = process.env.BENCH_ROLE;

async function upstream(): Promise<void> {
  const body = Buffer.from('{"ok":true,"pad":"' + 'x'.repeat(200) + '"}');
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    process.send!({ port: (server.address() as { port: number }).port });
  });
}

async function naive(upPort: number): Promise<void> {
  const pool = new Pool(`http://127.0.0.1:${upPort}`, { connections: 64 });
  const server = createServer(async (req, res) => {
    try {
      const r = await pool.request({
        path: req.url!,
        method: req.method as 'GET',
        headers: req.headers,
      });
      res.writeHead(r.statusCode, r.headers as Record<string, string>);
      r.body.pipe(res);
    } catch {
      res.writeHead(502).end();
    }
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () =>
    process.send!({ port: (server.address() as { port: number }).port }),
  );
}

async function trellis(upPort: number): Promise<void> {
  const { SnapshotBuilder, TestSnapshotSource, forward } =
    await import('../../src/dataplane/test-support/snapshot-builder.js');
  const { createDataPlane } = await import('../../src/dataplane/index.js');
  const b = new SnapshotBuilder();
  const ingress = '127.77.0.1';
  const port = 20_000 + Math.floor(Math.random() * 30_000);
  const vpc = b.vpc([ingress]);
  const net = b.network();
  b.associateVpc(net, vpc);
  const svc = b.service();
  b.associateService(net, svc);
  const tg = b.targetGroup('IP', { port: upPort });
  b.target(tg, '127.0.0.1');
  b.listener(svc, port, forward(tg));
  const source = new TestSnapshotSource();
  source.push(b.build());
  // BENCH_ROLE trellis-node: the same data plane with the socket fast path off (node:http + undici).
  const plane = createDataPlane({ snapshotSource: source, fastPath: role !== 'trellis-node' });
  await plane.start();
  process.send!({ port, address: ingress, host: b.hostOf(svc) });
}

function spawn(
  roleName: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; info: { port: number; address?: string; host?: string } }> {
  return new Promise((resolve) => {
    const child = fork(self, [], {
      env: { ...process.env, BENCH_ROLE: roleName, ...env },
      execArgv: [
        '--import',
        'tsx',
        ...(process.env.BENCH_PROF === roleName ? ['--cpu-prof', '--cpu-prof-dir=bench/out'] : []),
      ],
    });
    child.once('message', (info) => resolve({ child, info: info as { port: number } }));
  });
}

/** Load with wrk when installed (`BENCH_LOAD=wrk`): one thread, keep-alive. */
async function loadWrk(
  address: string,
  port: number,
  host: string,
  seconds: number,
  connections: number,
): Promise<number> {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync(
    'wrk',
    [
      '-t1',
      `-c${connections}`,
      `-d${seconds}s`,
      '-H',
      `Host: ${host}`,
      `http://${address}:${port}/bench`,
    ],
    { encoding: 'utf8' },
  );
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
}

async function load(
  address: string,
  port: number,
  host: string,
  seconds: number,
  connections: number,
): Promise<number> {
  if (process.env.BENCH_LOAD === 'wrk') return loadWrk(address, port, host, seconds, connections);
  const pool = new Pool(`http://${address}:${port}`, { connections, pipelining: 1 });
  let done = 0;
  let running = true;
  const worker = async (): Promise<void> => {
    while (running) {
      const r = await request(`http://${address}:${port}/bench`, {
        dispatcher: pool,
        headers: { host },
      });
      await r.body.dump();
      if (r.statusCode === 200) done += 1;
    }
  };
  // Warm-up.
  const warm = Date.now() + 1000;
  while (Date.now() < warm) {
    const r = await request(`http://${address}:${port}/`, { dispatcher: pool, headers: { host } });
    await r.body.dump();
  }
  const started = process.hrtime.bigint();
  const workers = Array.from({ length: connections }, worker);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  running = false;
  await Promise.all(workers);
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  await pool.close();
  return done / secs;
}

/** Asks a child to exit normally (so `--cpu-prof` writes its profile). */
function stop(child: ChildProcess): void {
  child.send('exit');
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 5);
  const connections = Number(process.argv[3] ?? 32);
  const rounds = Number(process.argv[4] ?? 3);
  const up = await spawn('upstream');
  const nv = await spawn('naive', { UP_PORT: String(up.info.port) });
  const tr = await spawn('trellis', { UP_PORT: String(up.info.port) });
  const tn = await spawn('trellis-node', { UP_PORT: String(up.info.port) });
  const runs: Record<string, number[]> = { direct: [], naive: [], trellis: [], 'trellis-node': [] };
  // Interleaved rounds, median reported: the machine is shared, so load drifts between runs.
  for (let r = 0; r < rounds; r++) {
    runs.direct!.push(await load('127.0.0.1', up.info.port, 'bench', seconds, connections));
    runs.naive!.push(await load('127.0.0.1', nv.info.port, 'bench', seconds, connections));
    runs.trellis!.push(
      await load(tr.info.address!, tr.info.port, tr.info.host!, seconds, connections),
    );
    runs['trellis-node']!.push(
      await load(tn.info.address!, tn.info.port, tn.info.host!, seconds, connections),
    );
  }
  for (const c of [nv, tr, tn, up]) stop(c.child);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const results = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
  for (const [k, v] of Object.entries(results))
    console.log(
      `${k.padEnd(12)} ${v.toFixed(0).padStart(7)} req/s  ${(v / results.direct!).toFixed(2)}× direct  runs ${runs[k]!.map((x) => x.toFixed(0)).join(' ')}`,
    );
  console.log(`trellis/naive ${(results.trellis! / results.naive!).toFixed(2)}`);
  console.log(`trellis/trellis-node ${(results.trellis! / results['trellis-node']!).toFixed(2)}`);
}

if (role !== undefined) process.on('message', (m) => m === 'exit' && process.exit(0));
if (role === 'upstream') void upstream();
else if (role === 'naive') void naive(Number(process.env.UP_PORT));
else if (role === 'trellis' || role === 'trellis-node') void trellis(Number(process.env.UP_PORT));
else void main();
