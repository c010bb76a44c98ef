/**
 * The e-commerce demo (issue 9) end to end: `trellis demo --non-interactive` as a user runs it, as
 * a child process with a deadline. Asserts what it reports from the real run — every call's status,
 * the identity headers the sample targets received, the weighted canary split, the denial and its
 * explanation, the access-log records — that a port it wants but finds taken is replaced and said
 * so, that an interrupted run leaves no process behind, and that it never wipes a folder that is
 * not its own.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DemoReport } from '../../examples/ecommerce/demo.js';
import { randomLoopback, randomPort } from '../support/dataplane-fixtures.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** The brief's budget for one demo run, start to exit. */
const DEADLINE_MS = 58_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/**
 * Runs `trellis demo <args>`; `onOutput` may act on the output so far (e.g. interrupt the run).
 * Fails the test when the run outlives the deadline (it is then killed with its process group).
 */
function runDemo(args: string[], onOutput?: (out: string, pid: number) => void): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/trellis.js'), 'demo', ...args], {
      cwd: ROOT,
      env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const add = (d: Buffer): void => {
      out += d.toString();
      onOutput?.(out, child.pid!);
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`the demo did not finish within ${DEADLINE_MS} ms:\n${out}`));
    }, DEADLINE_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, out });
    });
  });
}

/** Whether any process the demo recorded in its data dir is still running. */
function survivors(dataDir: string): number[] {
  const file = join(dataDir, 'trellis-demo.json');
  const recorded = JSON.parse(readFileSync(file, 'utf8')) as { children: { pid?: number }[] };
  return recorded.children
    .map((c) => c.pid)
    .filter((pid): pid is number => {
      if (!pid) return false;
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
}

const isRoot = process.getuid?.() === 0;

/** Namespaces a root run announced (step 2) that still exist. */
function leftNamespaces(out: string): string[] {
  const named = /network namespaces \((tdemo-\S+), (tdemo-\S+), (tdemo-\S+)\)/.exec(out);
  if (!named) return [];
  const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return named.slice(1).filter((ns) => list.split('\n').some((l) => l.split(' ')[0] === ns));
}

const work = mkdtempSync(join(tmpdir(), 'trellis-demo-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('trellis demo --non-interactive', () => {
  const dataDir = join(work, 'run');
  const reportFile = join(work, 'report.json');
  const ingress = randomLoopback();
  const takenPort = randomPort();
  let blocker: Server;
  let run: Run;
  let report: DemoReport;

  before(async () => {
    // A port the demo asks for but finds taken: it must pick another and say so.
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(takenPort, ingress, r));
    try {
      run = await runDemo([
        '--non-interactive',
        '--data-dir',
        dataDir,
        '--ingress',
        ingress,
        '--api-port',
        '0',
        '--listener-port',
        String(takenPort),
        '--report-file',
        reportFile,
      ]);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
    assert.ok(existsSync(reportFile), `no report written:\n${run.out}`);
    report = JSON.parse(readFileSync(reportFile, 'utf8')) as DemoReport;
  });

  test('exits 0 with every check passed, after printing each step', () => {
    assert.equal(run.code, 0, run.out);
    assert.deepEqual(
      report.checks.filter((c) => !c.ok),
      [],
    );
    for (const step of [1, 2, 3, 4, 5, 6]) assert.match(run.out, new RegExp(`\\[${step}/6\\]`));
    assert.match(run.out, /All checks passed\./);
  });

  test('a taken listener port is replaced by a free one, and the output says so', () => {
    assert.notEqual(report.listenerPort, takenPort);
    assert.match(
      run.out,
      new RegExp(
        `port ${takenPort} on ${ingress.replace(/\./g, '\\.')} is taken; using ${report.listenerPort}`,
      ),
    );
  });

  test('the order is placed: Inventory 200, Delivery 201, Payment 200', () => {
    assert.equal(report.order?.status, 200, report.order?.text);
    const body = report.order!.body!;
    assert.equal(body.status, 'placed');
    assert.deepEqual(
      body.calls.map((c) => [c.service, c.method, c.path.split('?')[0], c.status]),
      [
        ['inventory', 'GET', '/stock', 200],
        ['delivery', 'POST', '/delivery', 201],
        ['payment', 'POST', '/pay', 200],
      ],
    );
    // The Order function saw who called it (the demo signs as the account's administrator).
    assert.equal(body.invokedBy?.principal, `arn:aws:iam::${report.setup!.accountId}:root`);
    assert.equal(body.invokedBy?.type, 'AWS_IAM');
  });

  test('each target received the Order role session as x-amzn-lattice-identity', () => {
    const setup = report.setup!;
    const session = `arn:aws:sts::${setup.accountId}:assumed-role/order-service-role/${setup.functionName}`;
    for (const c of report.order!.body!.calls) {
      const seen = c.body!.seen!;
      assert.equal(
        seen.identity,
        `Principal=${session}; SessionName=${setup.functionName}; Type=AWS_IAM`,
        c.service,
      );
      assert.equal(seen.identityTags, `principal=${session}`, c.service);
      assert.equal(seen.sourceVpc, setup.vpcs.orders, c.service);
      const svc = setup.services[c.service as 'inventory' | 'delivery' | 'payment'];
      assert.match(seen.latticeTarget ?? '', new RegExp(`^ServiceArn=${svc.arn};`), c.service);
      if (c.service !== 'payment')
        assert.equal(seen.host, `${svc.host}:${report.listenerPort}`, c.service);
    }
  });

  test('the Delivery canary splits about 80/20 between v1 and v2', () => {
    const { calls, byVersion } = report.order!.body!.canary;
    assert.equal(calls, 50);
    assert.equal((byVersion.v1 ?? 0) + (byVersion.v2 ?? 0), 50, JSON.stringify(byVersion));
    // Binomial(50, 0.2): mean 10, sd 2.8; ±4 sd fails about once in 10^4 runs.
    assert.ok(Math.abs((byVersion.v2 ?? 0) - 10) <= 12, JSON.stringify(byVersion));
    assert.ok((byVersion.v2 ?? 0) >= 1 && (byVersion.v1 ?? 0) >= 28, JSON.stringify(byVersion));
  });

  test('POST /stock is denied with the §2.5 message, and the simulator explains it', () => {
    const setup = report.setup!;
    const f = report.order!.body!.forbidden!;
    assert.equal(f.status, 403);
    assert.equal(
      f.text,
      `AccessDeniedException: User: arn:aws:sts::${setup.accountId}:assumed-role/order-service-role/${setup.functionName} is not authorized to perform: vpc-lattice-svcs:Invoke on resource: ${setup.services.inventory.arn}/stock because no service-based policy allows the vpc-lattice-svcs:Invoke action\n`,
    );
    assert.equal(report.simulation?.decision, 'DENY');
    assert.equal(`${report.simulation!.message}\n`, f.text);
    const why = report.simulation!.explanation.join('\n');
    assert.match(why, /Identity: Allow/);
    assert.match(why, /Network \(authType AWS_IAM\): Allow/);
    assert.match(why, /Service \(authType AWS_IAM\): NoMatch/);
    assert.match(run.out, /Why \(POST \/_trellis\/auth\/simulate/);
  });

  test('the access log has a record of each call, the denial with its reason', () => {
    const setup = report.setup!;
    const session = `arn:aws:sts::${setup.accountId}:assumed-role/order-service-role/${setup.functionName}`;
    const records = report.accessLog!.records;
    assert.ok(records.length >= 55, `${records.length} records`);
    const find = (method: string, path: string) =>
      records.find((r) => r.requestMethod === method && r.requestPath === path);
    const rows: [string, string, number, string, string, string | null][] = [
      [
        'POST',
        '/orders',
        200,
        setup.services.order.arn,
        `arn:aws:iam::${setup.accountId}:root`,
        null,
      ],
      ['GET', '/stock', 200, setup.services.inventory.arn, session, null],
      ['POST', '/delivery', 201, setup.services.delivery.arn, session, null],
      ['POST', '/pay', 200, setup.services.payment.arn, session, null],
      ['POST', '/stock', 403, setup.services.inventory.arn, session, 'Service'],
    ];
    for (const [method, path, code, serviceArn, caller, denied] of rows) {
      const r = find(method, path);
      assert.ok(r, `no record of ${method} ${path}`);
      assert.equal(r.responseCode, code, `${method} ${path}`);
      assert.equal(r.serviceArn, serviceArn, `${method} ${path}`);
      assert.equal(r.serviceNetworkArn, setup.serviceNetwork.arn, `${method} ${path}`);
      assert.equal(r.callerPrincipal, caller, `${method} ${path}`);
      assert.equal(r.authDeniedReason, denied, `${method} ${path}`);
    }
    // Where the data plane sent each call: the IPv6 target, the instance, the ALB.
    const samples = report.samples!;
    assert.equal(find('GET', '/stock')!.targetIpPort, samples.inventory);
    if (report.vpcs?.mode === 'network namespaces') {
      // As root the VPCs are namespaces: IPv6 target inside Inventory's, and Delivery's ALB and
      // Payment's instance at the same 10.0.0.10 in two namespaces (overlapping CIDRs).
      assert.match(samples.inventory, /^\[fd00:1::10\]:\d+$/);
      assert.match(samples.payment, /^10\.0\.0\.10:\d+$/);
      assert.ok(samples.alb.every((a) => a.startsWith('10.0.0.10:')));
    } else assert.match(samples.inventory, /^\[::1\]:\d+$/);
    assert.equal(find('POST', '/pay')!.targetIpPort, samples.payment);
    assert.ok(samples.alb.includes(String(find('POST', '/delivery')!.targetIpPort)));
  });

  test('Payment is HTTPS on its custom domain where Trellis has certificates, else HTTP said plainly', () => {
    const setup = report.setup!;
    const pay = report.order!.body!.calls.find((c) => c.service === 'payment')!;
    if (setup.certificateArn) {
      assert.match(setup.certificateArn, /^arn:aws:acm:/);
      assert.equal(setup.paymentUrl, `https://payment.shop.example:${report.httpsPort}`);
      assert.equal(pay.protocol, 'HTTPS');
      assert.doesNotMatch(run.out, /HTTPS listeners: this Trellis has no certificates/);
    } else {
      assert.equal(setup.paymentUrl, `http://payment.shop.example:${report.listenerPort}`);
      assert.equal(pay.protocol, 'HTTP');
      assert.match(run.out, /HTTPS listeners: this Trellis has no certificates/);
    }
    assert.equal(pay.body!.seen!.host, new URL(setup.paymentUrl).host);
  });

  test('Payment belongs to a second account that shares it with the shop', () => {
    const setup = report.setup!;
    assert.notEqual(setup.paymentsAccountId, setup.accountId);
    assert.match(
      setup.services.payment.arn,
      new RegExp(`^arn:aws:vpc-lattice:us-east-1:${setup.paymentsAccountId}:service/svc-`),
    );
    assert.match(setup.targetGroups.payment.arn, new RegExp(`:${setup.paymentsAccountId}:`));
    // Reached through the shop's network, from the shop's VPC, by the shop's role.
    const pay = report.order!.body!.calls.find((c) => c.service === 'payment')!;
    assert.equal(pay.status, 200);
    assert.equal(pay.body!.seen!.sourceVpc, setup.vpcs.orders);
    assert.match(
      pay.body!.seen!.latticeTarget ?? '',
      new RegExp(`ServiceNetworkArn=${setup.serviceNetwork.arn};`),
    );
  });

  test('says plainly what Trellis does not do yet', () => {
    assert.match(run.out, /Not in Trellis yet/);
    assert.match(run.out, /network namespaces/);
    assert.match(run.out, /no AWS RAM shares/);
  });

  test('leaves no process behind, and no network namespace', () => {
    assert.deepEqual(survivors(dataDir), []);
    assert.equal(report.vpcs?.mode, isRoot ? 'network namespaces' : 'ingress addresses');
    if (isRoot) assert.match(run.out, /real network namespaces \(tdemo-/);
    assert.deepEqual(leftNamespaces(run.out), []);
  });
});

describe('trellis demo, interrupted and run again', () => {
  test('SIGINT during the setup stops every process the demo started', async () => {
    const dataDir = join(work, 'interrupted');
    let sent = false;
    const run = await runDemo(
      ['--data-dir', dataDir, '--ingress', randomLoopback(), '--api-port', '0'],
      (out, pid) => {
        if (!sent && out.includes('[3/6]')) {
          sent = true;
          process.kill(pid, 'SIGINT');
        }
      },
    );
    assert.ok(sent, run.out);
    assert.match(run.out, /SIGINT: stopping the demo's processes/);
    assert.equal(run.code, 130, run.out);
    assert.deepEqual(survivors(dataDir), []);
    assert.deepEqual(leftNamespaces(run.out), []);
  });

  test('--help lists the options; an unknown argument exits 2 and names it', async () => {
    const help = await runDemo(['--help']);
    assert.equal(help.code, 0, help.out);
    for (const flag of ['--non-interactive', '--data-dir', '--api-port', '--listener-port'])
      assert.ok(help.out.includes(flag), flag);
    const bad = await runDemo(['--bogus']);
    assert.equal(bad.code, 2, bad.out);
    assert.match(bad.out, /unknown argument --bogus/);
  });

  test('refuses to wipe a data dir that is not its own, and leaves it untouched', async () => {
    const dataDir = join(work, 'precious');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'notes.txt'), 'keep me');
    const run = await runDemo(['--non-interactive', '--data-dir', dataDir, '--api-port', '0']);
    assert.equal(run.code, 1);
    assert.match(run.out, /is not a demo data dir; refusing to wipe it/);
    assert.equal(readFileSync(join(dataDir, 'notes.txt'), 'utf8'), 'keep me');
  });
});
