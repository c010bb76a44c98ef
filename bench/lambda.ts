/**
 * Lambda targets (issue 6 speed targets): a warm trivial handler behind the data plane against
 * the same kind of service with a plain HTTP target, and the cold start of a local function.
 *
 *   npx tsx bench/lambda.ts
 *
 * - **Throughput**: one `trellis up`, two services on the same listener port: one forwards to an
 *   IP target group holding an nginx origin (`return 200 "ok\n"`, one worker), the other to a
 *   LAMBDA target group (V2 events) whose function returns `{statusCode: 200, body: "ok\n"}`.
 *   `wrk -t1 -c50 -d<s>s`, one warm-up run each, then interleaved rounds; median req/s each.
 *   Target: lambda ≥ 0.5× http.
 * - **Added latency**: `support/paced-client.ts` at a moderate fixed rate on 16 keep-alive
 *   connections, interleaved rounds; added p50 = p50(lambda) − p50(http). Target < 1 ms.
 * - **Cold start** (target < 100 ms):
 *   - runner: `createFunctionRunner` in this process, `register` (as at start-up: nothing loaded)
 *     then the first `invoke`, timed end to end (thread start + module import + invocation), and
 *     the Init Duration the pool reports; JavaScript and TypeScript handlers, new function each
 *     sample;
 *   - API: `CreateFunction` through `@aws-sdk/client-lambda` against `trellis up` (Trellis loads
 *     the module in a worker at create time and keeps it warm), the Init Duration from the
 *     function log, and the first `Invoke` after it.
 *
 * Environment: BENCH_LAMBDA_SECONDS (wrk duration, default 10), BENCH_LAMBDA_ROUNDS (default 3),
 * BENCH_LAMBDA_RATE (paced req/s, default 500), BENCH_LAMBDA_COLD_SAMPLES (default 10).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  InvokeCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import {
  CreateListenerCommand,
  CreateTargetGroupCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-vpc-lattice';
import { createFunctionRunner } from '../src/functions/index.js';
import { startTrellis } from '../test/support/trellis-process.js';
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
  toolVersion,
  trackTrellis,
  type BenchFigure,
  type BenchResult,
} from './support/bench-kit.js';
import {
  createAssociatedService,
  createProxyChain,
  defaultVpcId,
  waitServing,
} from './support/lattice-setup.js';
import { startNginx } from './support/nginx.js';
import { pacedRun } from './support/paced-client.js';
import { runWrk, type WrkResult } from './support/wrk.js';

const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

const TRIVIAL_JS = `export const handler = async () => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok\\n' });\n`;
const TRIVIAL_TS = `interface Result { statusCode: number; headers: Record<string, string>; body: string }\nexport const handler = async (): Promise<Result> => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok\\n' });\n`;

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** Cold starts of the runner in this process: `register`, then the first `invoke`. */
export async function runnerColdStarts(
  codeDir: string,
  samples: number,
  handler: string,
): Promise<{ firstInvokeMs: number[]; cpuMs: number[]; initMs: number[]; warmMs: number[] }> {
  const initMs: number[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-bench-runner-'));
  const runner = createFunctionRunner({
    dataDir,
    region: 'us-east-1',
    logger: {
      info: (message, fields) => {
        if (message === 'function cold start') initMs.push(Number(fields?.initDurationMs));
      },
      warn: () => undefined,
    },
  });
  await runner.start();
  const firstInvokeMs: number[] = [];
  const cpuMs: number[] = [];
  const warmMs: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const name = `cold-${handler.replace(/\W/g, '-')}-${i}`;
      const arn = `arn:aws:lambda:us-east-1:111122223333:function:${name}`;
      runner.register({
        functionName: name,
        functionArn: arn,
        handler,
        codeDir,
        timeoutSeconds: 10,
        memorySizeMb: 128,
        environment: {},
      });
      // CPU of every thread of this otherwise idle process: the cold start's own work, apart
      // from the time it waits for a core on a loaded machine.
      const cpu0 = process.cpuUsage();
      let t0 = performance.now();
      const first = await runner.invoke(arn, '{}');
      firstInvokeMs.push(performance.now() - t0);
      const cpu = process.cpuUsage(cpu0);
      cpuMs.push((cpu.user + cpu.system) / 1000);
      if (first.status !== 'ok') throw new Error(`cold invoke failed: ${JSON.stringify(first)}`);
      t0 = performance.now();
      await runner.invoke(arn, '{}');
      warmMs.push(performance.now() - t0);
      await runner.remove(arn);
    }
  } finally {
    await runner.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { firstInvokeMs, cpuMs, initMs, warmMs };
}

export async function run(): Promise<BenchResult> {
  requireTools([
    { bin: 'nginx', versionArgs: ['-v'] },
    { bin: 'wrk', versionArgs: ['--version'] },
  ]);
  const seconds = num('BENCH_LAMBDA_SECONDS', 10);
  const rounds = num('BENCH_LAMBDA_ROUNDS', 3);
  const rate = num('BENCH_LAMBDA_RATE', 500);
  const coldSamples = num('BENCH_LAMBDA_COLD_SAMPLES', 10);
  const pacedRequests = rate * 6;
  const started = Date.now();
  const figures: BenchFigure[] = [];
  const details: string[] = [`load average at start: ${load()}`];
  const stops: (() => Promise<unknown>)[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'trellis-bench-lambda-'));
  stops.push(async () => rmSync(scratch, { recursive: true, force: true }));
  const codeDir = join(scratch, 'code');
  mkdirSync(codeDir);
  writeFileSync(join(codeDir, 'trivial.mjs'), TRIVIAL_JS);
  writeFileSync(join(codeDir, 'typed.ts'), TRIVIAL_TS);

  try {
    // Cold starts first, while nothing else of this bench runs.
    for (const [label, handler] of [
      ['JavaScript', 'trivial.handler'],
      ['TypeScript', 'typed.handler'],
    ] as const) {
      progress(started, `runner cold starts (${label}), ${coldSamples} samples`);
      const c = await runnerColdStarts(codeDir, coldSamples, handler);
      details.push(
        `runner ${label}: first invoke ms ${c.firstInvokeMs.map((v) => fmt(v, 1)).join(' ')}`,
        `runner ${label}: cold-start CPU ms ${c.cpuMs.map((v) => fmt(v, 1)).join(' ')}`,
        `runner ${label}: init ms ${c.initMs.map((v) => fmt(v, 1)).join(' ')}; warm invoke ms ${c.warmMs.map((v) => fmt(v, 2)).join(' ')}`,
      );
      const firstP50 = median(c.firstInvokeMs);
      figures.push(
        {
          name: `cold start, ${label} handler: first invoke p50 (runner)`,
          value: firstP50,
          unit: 'ms',
          target: '< 100 ms',
          pass: firstP50 < 100,
        },
        {
          name: `cold start, ${label} handler: first invoke max (runner)`,
          value: Math.max(...c.firstInvokeMs),
          unit: 'ms',
        },
        {
          name: `cold start, ${label} handler: CPU time p50 (all threads)`,
          value: median(c.cpuMs),
          unit: 'ms',
          note: 'the wall time on an idle machine',
        },
        {
          name: `cold start, ${label} handler: Init Duration p50`,
          value: median(c.initMs),
          unit: 'ms',
        },
        {
          name: `warm invoke, ${label} handler: p50 (runner)`,
          value: median(c.warmMs),
          unit: 'ms',
        },
      );
    }

    const originAddress = randomLoopback();
    const origin = await startNginx({
      address: originAddress,
      port: await freePort(originAddress),
      workers: 1,
      role: { kind: 'origin' },
    });
    stops.push(() => origin.stop());
    const address = randomLoopback();
    const proc = trackTrellis(
      await startTrellis({
        args: ['--dataplane-host', address, '--store-synchronous', 'NORMAL'],
        env: { TRELLIS_LOG_LEVEL: 'warn' },
        timeoutMs: 120_000,
      }),
    );
    stops.push(() => proc.stop());
    const lattice = proc.lattice();
    const lambda = new LambdaClient({
      endpoint: proc.endpoint,
      region: proc.region,
      credentials: proc.credentials,
      maxAttempts: 1,
    });
    stops.push(async () => {
      lattice.destroy();
      lambda.destroy();
    });

    // Cold start through the API: CreateFunction loads the module; then the first Invoke.
    progress(started, `API CreateFunction + first Invoke, ${coldSamples} samples`);
    const createMs: number[] = [];
    const apiInitMs: number[] = [];
    const apiFirstMs: number[] = [];
    for (let i = 0; i < coldSamples; i++) {
      const name = `bench-cold-${i}`;
      let t0 = performance.now();
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Handler: 'trivial.handler',
          Runtime: 'nodejs20.x',
          Role: undefined as unknown as string,
          Code: { S3Bucket: 'trellis-local', S3Key: codeDir },
        }),
      );
      createMs.push(performance.now() - t0);
      t0 = performance.now();
      const out = await lambda.send(new InvokeCommand({ FunctionName: name }));
      apiFirstMs.push(performance.now() - t0);
      if (out.FunctionError) throw new Error(`invoke failed: ${Buffer.from(out.Payload!)}`);
      const log = readFileSync(join(proc.dataDir, 'functions/logs', `${name}.log`), 'utf8');
      const init = /Init Duration: ([\d.]+) ms/.exec(log);
      if (init) apiInitMs.push(Number(init[1]));
      await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
    }
    details.push(
      `API CreateFunction ms ${createMs.map((v) => fmt(v, 1)).join(' ')}`,
      `API Init Duration (function log) ms ${apiInitMs.map((v) => fmt(v, 1)).join(' ')}`,
      `API first Invoke after CreateFunction ms ${apiFirstMs.map((v) => fmt(v, 1)).join(' ')}`,
    );
    figures.push(
      {
        name: 'CreateFunction round trip p50 (module loaded)',
        value: median(createMs),
        unit: 'ms',
      },
      {
        name: 'cold start via API: Init Duration p50 (function log)',
        value: median(apiInitMs),
        unit: 'ms',
        target: '< 100 ms',
        pass: median(apiInitMs) < 100,
      },
      {
        name: 'first Invoke after CreateFunction p50 (API, warm worker)',
        value: median(apiFirstMs),
        unit: 'ms',
      },
    );

    // Two services on one listener port: plain HTTP target vs LAMBDA target.
    progress(started, 'configuring the http and lambda services');
    const vpcId = defaultVpcId(proc.accountId);
    const port = await freePort(address);
    const http = await createProxyChain(lattice, {
      name: 'bench-http',
      vpcId,
      upstream: { address: origin.address, port: origin.port },
      listenerPort: port,
    });
    const fn = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'bench-trivial',
        Handler: 'trivial.handler',
        Runtime: 'nodejs20.x',
        Role: undefined as unknown as string,
        Code: { S3Bucket: 'trellis-local', S3Key: codeDir },
      }),
    );
    const svc = await createAssociatedService(lattice, http.serviceNetworkId, 'bench-lambda-svc');
    const tg = await lattice.send(
      new CreateTargetGroupCommand({
        name: 'bench-lambda-tg',
        type: 'LAMBDA',
        config: { lambdaEventStructureVersion: 'V2' },
      }),
    );
    await lattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: tg.id!,
        targets: [{ id: fn.FunctionArn! }],
      }),
    );
    await lattice.send(
      new CreateListenerCommand({
        serviceIdentifier: svc.serviceId,
        name: 'bench-lambda-l',
        protocol: 'HTTP',
        port,
        defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: tg.id! }] } },
      }),
    );
    await waitServing(address, port, http.host, 200, 60_000);
    await waitServing(address, port, svc.host, 200, 60_000);

    const systems = { http: http.host, lambda: svc.host } as const;
    const url = `http://${address}:${port}/`;

    // 1: throughput.
    const tput: Record<string, WrkResult[]> = { http: [], lambda: [] };
    let command = '';
    for (const [label, host] of Object.entries(systems)) {
      progress(started, `wrk warm-up ${label}`);
      await runWrk({ url, host, threads: 1, connections: 50, durationSeconds: 3 });
    }
    for (let r = 0; r < rounds; r++) {
      for (const [label, host] of Object.entries(systems)) {
        const w = await runWrk({
          url,
          host,
          threads: 1,
          connections: 50,
          durationSeconds: seconds,
        });
        command = w.command;
        tput[label]!.push(w);
        const line = `wrk round ${r + 1} ${label}: ${fmt(w.requestsPerSecond, 0)} req/s, p50 ${fmt(w.latencyP50Ms, 2)} ms, p99 ${fmt(w.latencyP99Ms, 2)} ms, non-2xx ${w.non2xx}, socket errors ${w.socketErrors}; load ${load()}`;
        details.push(line);
        progress(started, line);
      }
    }
    const rps = (label: string): number => median(tput[label]!.map((w) => w.requestsPerSecond));
    const ratio = rps('lambda') / rps('http');
    figures.push(
      { name: 'throughput, http target (wrk -c50 median)', value: rps('http'), unit: 'req/s' },
      { name: 'throughput, lambda target (wrk -c50 median)', value: rps('lambda'), unit: 'req/s' },
      {
        name: 'throughput ratio lambda / http',
        value: ratio,
        unit: '×',
        target: '≥ 0.5',
        pass: ratio >= 0.5,
      },
    );

    // 2: added latency at a paced moderate rate.
    const paced: Record<string, number[]> = { http: [], lambda: [] };
    for (let r = 0; r < 2; r++) {
      for (const [label, host] of Object.entries(systems)) {
        const out = await pacedRun({
          address,
          port,
          host,
          rate,
          requests: pacedRequests,
          connections: 16,
          timeoutMs: (pacedRequests / rate) * 1000 + 30_000,
        });
        paced[label]!.push(...out.latenciesMs);
        const line = `paced ${rate} req/s round ${r + 1} ${label}: p50 ${fmt(quantile(out.latenciesMs, 0.5), 3)} ms p99 ${fmt(quantile(out.latenciesMs, 0.99), 3)} ms (late ${out.late}, errors ${out.errors}, non-200 ${out.badStatus}); load ${load()}`;
        details.push(line);
        progress(started, line);
      }
    }
    const p = (label: string, q: number): number => quantile(paced[label]!, q);
    const added = p('lambda', 0.5) - p('http', 0.5);
    figures.push(
      { name: `paced ${rate} req/s: http target p50`, value: p('http', 0.5), unit: 'ms' },
      { name: `paced ${rate} req/s: http target p99`, value: p('http', 0.99), unit: 'ms' },
      { name: `paced ${rate} req/s: lambda target p50`, value: p('lambda', 0.5), unit: 'ms' },
      { name: `paced ${rate} req/s: lambda target p99`, value: p('lambda', 0.99), unit: 'ms' },
      {
        name: 'added latency p50 (lambda − http)',
        value: added,
        unit: 'ms',
        target: '< 1 ms',
        pass: added < 1,
      },
    );
    details.push(`load average at end: ${load()}`, `wrk: ${toolVersion('wrk', ['--version'])}`);

    const result: BenchResult = {
      bench: 'lambda',
      commands: [
        'npx tsx bench/lambda.ts',
        `${command.replace(/-H 'Host: [^']+'/, "-H 'Host: <service DNS name>'")} (http and lambda services, ${rounds} interleaved rounds)`,
        `paced client: bench/support/paced-client.ts, ${rate} req/s, 16 keep-alive connections`,
      ],
      figures,
      details,
    };
    saveResult(result);
    return result;
  } finally {
    while (stops.length) await stops.pop()!().catch(() => undefined);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await run();
  printResult(result);
  for (const d of result.details) console.log(d);
  process.exit(0);
}
