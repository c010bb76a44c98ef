/**
 * VPCs as real Linux network namespaces (issue 8 §1–§2, docs/multi-vpc.md), through `trellis up`
 * and real tools: three namespaces with the same 10.0.0.0/24, clients calling services by DNS
 * name with `ip netns exec <ns> curl` (the namespace's resolver is the /etc/netns/<ns>/resolv.conf
 * Trellis writes, which `ip netns exec` bind-mounts — the real user flow), a target 10.0.0.10 in
 * two namespaces answering differently, a VPC that is not associated getting NXDOMAIN and no
 * connection, a security group admitting one client of a namespace and refusing another, a lost
 * link restored, and Trellis removing the namespaces it created (not the user's) when it stops.
 *
 * Needs root (namespaces, veth pairs, routes); CI runs as root. Elsewhere it is skipped, saying so.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  CreateServiceNetworkCommand,
  CreateServiceNetworkVpcAssociationCommand,
} from '@aws-sdk/client-vpc-lattice';
import {
  createListener,
  createService,
  createTargetGroup,
  forwardTo,
  randomPort,
  waitFor,
} from '../support/dataplane-fixtures.js';
import { inventoryCall } from '../support/inventory-client.js';
import { uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const hasIp = existsSync('/usr/sbin/ip') || existsSync('/sbin/ip') || existsSync('/usr/bin/ip');
const hasCurl = existsSync('/usr/bin/curl');
const skip = !isRoot
  ? 'needs root: network namespaces, veth pairs and routes need CAP_NET_ADMIN (CI runs as root)'
  : !hasIp || !hasCurl
    ? 'needs iproute2 (ip) and curl'
    : false;

const id = randomBytes(3).toString('hex');
/** Namespaces of this run: two Trellis creates, one the test creates and attaches (the user's). */
const NS = { a: `tv${id}-a`, b: `tv${id}-b`, c: `tv${id}-c` };
const TARGET_PORT = 8080;

let proc: TrellisProcess | undefined;
const servers: ChildProcess[] = [];
let port: number;
const names = { a: '', b: '' };
const lattice: Record<keyof typeof NS, string> = { a: '', b: '', c: '' };

/** `ip …`; throws with stderr on failure. */
async function ip(...args: string[]): Promise<string> {
  return (await run('ip', args)).stdout;
}

/** curl inside a namespace: the HTTP status and body, or curl's exit code when it failed. */
async function curlIn(
  ns: string,
  url: string,
  extra: string[] = [],
): Promise<{ code: number; status?: number; body?: string }> {
  try {
    const { stdout } = await run('ip', [
      'netns',
      'exec',
      ns,
      'curl',
      '-sS',
      '--max-time',
      '10',
      '-o',
      '-',
      '-w',
      '\n%{http_code}',
      ...extra,
      url,
    ]);
    const cut = stdout.lastIndexOf('\n');
    return { code: 0, status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
  } catch (err) {
    return { code: (err as { code?: number }).code ?? -1 };
  }
}

/** The nameserver Trellis wrote into /etc/netns/<ns>/resolv.conf, once the VPC is attached. */
function resolverOf(ns: string): string | undefined {
  try {
    return /nameserver\s+(\S+)/.exec(readFileSync(`/etc/netns/${ns}/resolv.conf`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** A plain HTTP server inside a namespace, answering `name` on 10.0.0.10:8080. */
async function startTargetIn(ns: string, name: string): Promise<void> {
  await ip('-n', ns, 'addr', 'add', '10.0.0.10/32', 'dev', 'lo');
  const code =
    "const [name]=process.argv.slice(1);require('http').createServer((q,s)=>{s.setHeader('content-type','text/plain');" +
    "s.end(name+' saw '+q.socket.remoteAddress)})" +
    // An HTTP/1.1 upgrade is answered 101 and each chunk echoed with the target's name.
    ".on('upgrade',(q,sock)=>{sock.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n\\r\\n');" +
    "sock.on('data',(d)=>sock.write(name+':'+d))}).listen(8080,'10.0.0.10',()=>console.log('ready'))";
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code, name], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  servers.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`target in ${ns} exited with ${c}`)));
  });
}

async function createGroup(vpcId: string, rules: unknown[]): Promise<string> {
  const res = await inventoryCall(proc!, 'POST', '/_trellis/securitygroups', {
    groupName: uniqueName('sg'),
    vpcId,
    inboundRules: rules,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body!.groupId as string;
}

describe('CreateVpc with networkNamespace (any user: only the data plane needs root)', () => {
  let api: TrellisProcess;
  before(async () => {
    api = await startTrellis({ env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' } });
  });
  after(async () => {
    await api.stop();
  });

  test('bad input names the field; a namespace belongs to one VPC', async () => {
    const table: [string, Record<string, unknown>, string][] = [
      ['bad name', { networkNamespace: { name: '../etc' } }, 'networkNamespace.name'],
      ['option-like name', { networkNamespace: { name: '-force' } }, 'networkNamespace.name'],
      ['not an object', { networkNamespace: 'x' }, 'networkNamespace'],
      ['attach without a name', { networkNamespace: { create: false } }, 'networkNamespace.name'],
      ['unknown member', { networkNamespace: { name: 'x', cidr: 1 } }, 'networkNamespace.cidr'],
      [
        'both ways in',
        { networkNamespace: { name: 'x' }, ingressAddresses: ['127.0.0.9'] },
        'ingressAddresses',
      ],
    ];
    for (const [why, body, field] of table) {
      const res = await inventoryCall(api, 'POST', '/_trellis/vpcs', body);
      assert.equal(res.status, 400, why);
      const names = (res.body!.fieldList as { name: string }[]).map((f) => f.name);
      assert.ok(names.includes(field), `${why}: ${JSON.stringify(names)}`);
    }
    const name = `tv${randomBytes(3).toString('hex')}-v`;
    const made = await inventoryCall(api, 'POST', '/_trellis/vpcs', {
      networkNamespace: { name },
    });
    assert.equal(made.status, 201);
    assert.deepEqual(made.body!.networkNamespace, { name, create: true });
    assert.deepEqual(made.body!.ingressAddresses, []);
    const again = await inventoryCall(api, 'POST', '/_trellis/vpcs', {
      networkNamespace: { name, create: false },
    });
    assert.equal(again.status, 409);
    const generated = await inventoryCall(api, 'POST', '/_trellis/vpcs', { networkNamespace: {} });
    assert.match(
      (generated.body!.networkNamespace as { name: string }).name,
      /^trellis-[0-9a-f]{10}$/,
    );
    // As root this Trellis creates both namespaces; stopping it in `after` removes them.
  });
});

describe('VPCs as network namespaces', { skip }, () => {
  before(async () => {
    // The user's own namespace, attached by name, with an address of its own for its clients.
    await ip('netns', 'add', NS.c);
    await ip('-n', NS.c, 'addr', 'add', '10.0.0.5/32', 'dev', 'lo');
    proc = await startTrellis({ env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' } });
    const client = proc.lattice();
    const vpc = async (body: Record<string, unknown>): Promise<string> => {
      const res = await inventoryCall(proc!, 'POST', '/_trellis/vpcs', {
        cidrBlocks: ['10.0.0.0/24'],
        ...body,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body!.vpcId as string;
    };
    const vpcA = await vpc({ networkNamespace: { name: NS.a } });
    const vpcB = await vpc({ networkNamespace: { name: NS.b, create: true } });
    await vpc({ networkNamespace: { name: NS.c, create: false } });
    for (const k of ['a', 'b', 'c'] as const) {
      lattice[k] = (await waitFor(() => resolverOf(NS[k]), {
        timeoutMs: 45_000,
        message: `namespace ${NS[k]} attached`,
      })) as string;
      assert.match(lattice[k], /^169\.254\.171\.\d+$/);
    }
    await startTargetIn(NS.a, 'target-in-a');
    await startTargetIn(NS.b, 'target-in-b');
    // A second client address in B, refused by B's security group below.
    await ip('-n', NS.b, 'addr', 'add', '10.0.0.20/32', 'dev', 'lo');

    port = randomPort();
    const sn = await client.send(new CreateServiceNetworkCommand({ name: uniqueName('sn') }));
    await client.send(
      new CreateServiceNetworkVpcAssociationCommand({
        serviceNetworkIdentifier: sn.id,
        vpcIdentifier: vpcA,
      }),
    );
    // B's clients: only 10.0.0.1 (the address Trellis gives the namespace side) may connect.
    const onlyRouter = await createGroup(vpcB, [
      { protocol: 'tcp', fromPort: port, toPort: port, cidrIpv4: '10.0.0.1/32' },
      { protocol: 'tcp', fromPort: port, toPort: port, cidrIpv6: '::/0' },
    ]);
    await client.send(
      new CreateServiceNetworkVpcAssociationCommand({
        serviceNetworkIdentifier: sn.id,
        vpcIdentifier: vpcB,
        securityGroupIds: [onlyRouter],
      }),
    );
    for (const [k, vpcId] of [
      ['a', vpcA],
      ['b', vpcB],
    ] as const) {
      const svc = await createService(client, sn.id!, { stem: `in-${k}` });
      const tg = await createTargetGroup(client, vpcId, TARGET_PORT, [{ id: '10.0.0.10' }]);
      await createListener(client, svc.id, port, forwardTo(tg.id));
      names[k] = svc.dnsName;
    }
  });

  after(async () => {
    for (const s of servers) s.kill('SIGKILL');
    await proc?.stop();
    for (const ns of Object.values(NS)) {
      await run('ip', ['netns', 'del', ns]).catch(() => undefined);
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
  });

  test('clients in two namespaces with the same CIDR call both services by DNS name; the same 10.0.0.10 answers in its own namespace', async () => {
    for (const from of ['a', 'b'] as const) {
      for (const to of ['a', 'b'] as const) {
        const url = `http://${names[to]}:${port}/`;
        const got = await waitFor(
          async () => {
            const r = await curlIn(NS[from], url, ['-4']);
            return r.status === 200 ? r : undefined;
          },
          { timeoutMs: 45_000, message: `${from} → ${to}` },
        );
        // The target saw the data plane arrive from its own VPC's Lattice address.
        assert.equal(got!.body, `target-in-${to} saw ${lattice[to]}`, `${from} → ${to}`);
      }
    }
  });

  test("an upgraded connection (WebSocket) from A reaches B's target inside B's namespace", async () => {
    // A raw HTTP/1.1 upgrade from a client in A, by DNS name: the tunnel to the target opens
    // from B's Lattice address, so the 10.0.0.10 that answers is B's.
    const code =
      "const [host,port]=process.argv.slice(1);const s=require('net').connect(+port,host);let got='';" +
      "s.write('GET /ws HTTP/1.1\\r\\nHost: '+host+'\\r\\nConnection: Upgrade\\r\\nUpgrade: websocket\\r\\n" +
      "Sec-WebSocket-Version: 13\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\n\\r\\n');" +
      "s.on('data',(d)=>{got+=d;if(got.includes('\\r\\n\\r\\n')&&!got.includes('ping')){s.write('ping')}" +
      "if(got.includes(':ping')){console.log(JSON.stringify(got));s.destroy()}});" +
      "s.on('error',(e)=>{console.log(JSON.stringify(String(e)));});setTimeout(()=>{console.log(JSON.stringify(got));process.exit(0)},10000).unref()";
    const { stdout } = await run('ip', [
      'netns',
      'exec',
      NS.a,
      process.execPath,
      '-e',
      code,
      names.b,
      String(port),
    ]);
    const got = JSON.parse(stdout.trim().split('\n')[0]!) as string;
    assert.match(got, /^HTTP\/1\.1 101 /, got);
    assert.ok(got.endsWith('target-in-b:ping'), got);
  });

  test('DNS at the Lattice address answers with that address; IPv6 clients reach it too', async () => {
    const code =
      "const r=new (require('dns').promises.Resolver)({timeout:2000,tries:2});r.setServers([process.argv[1]]);" +
      'Promise.all([r.resolve4(process.argv[2]),r.resolve6(process.argv[2]).catch(e=>[e.code])])' +
      '.then(x=>console.log(JSON.stringify(x)))';
    const { stdout } = await run('ip', [
      'netns',
      'exec',
      NS.a,
      process.execPath,
      '-e',
      code,
      lattice.a,
      names.b,
    ]);
    const [v4, v6] = JSON.parse(stdout) as [string[], string[]];
    assert.deepEqual(v4, [lattice.a]);
    if (v6[0]?.startsWith('fd00:ec2:80::')) {
      const r = await curlIn(NS.a, `http://${names.b}:${port}/`, ['-6']);
      assert.equal(r.status, 200, `curl -6 exit ${r.code}`);
      // The client came over IPv6; the IPv4 target is reached from B's IPv4 Lattice address.
      assert.equal(r.body, `target-in-b saw ${lattice.b}`);
    }
  });

  test('a VPC not associated gets NXDOMAIN and no connection', async () => {
    const r = await curlIn(NS.c, `http://${names.a}:${port}/`);
    assert.equal(r.code, 6, 'curl: could not resolve host');
    const code =
      "const r=new (require('dns').promises.Resolver)({timeout:2000,tries:2});r.setServers([process.argv[1]]);" +
      'r.resolve4(process.argv[2]).then(a=>console.log(a.join()),e=>console.log(e.code))';
    const { stdout } = await run('ip', [
      'netns',
      'exec',
      NS.c,
      process.execPath,
      '-e',
      code,
      lattice.c,
      names.a,
    ]);
    assert.equal(stdout.trim(), 'ENOTFOUND', 'NXDOMAIN');
    // Straight at its Lattice address with the name forced: nothing listens for C.
    const direct = await curlIn(NS.c, `http://${names.a}:${port}/`, [
      '--resolve',
      `${names.a}:${port}:${lattice.c}`,
    ]);
    assert.equal(direct.code, 7, 'connection refused');
    // And C cannot reach A's Lattice address at all (no route out of its namespace).
    const other = await curlIn(NS.c, `http://${lattice.a}:${port}/`, ['--connect-timeout', '2']);
    assert.notEqual(other.code, 0);
  });

  test("a security group admits one client of B's namespace and refuses another", async () => {
    const url = `http://${names.a}:${port}/`;
    const allowed = await curlIn(NS.b, url, ['-4']);
    assert.equal(allowed.status, 200);
    const refused = await curlIn(NS.b, url, ['-4', '--interface', '10.0.0.20']);
    assert.ok(
      // 52 empty reply, 56 reset while reading, 55 reset before curl finished sending.
      [52, 55, 56].includes(refused.code),
      `refused before any HTTP (curl exit ${refused.code})`,
    );
    await waitFor(() => /connection refused by security groups/.test(proc!.output()), {
      message: 'the refusal is logged',
    });
    // A's clients are not filtered by B's groups.
    const fromA = await curlIn(NS.a, url, ['-4', '--interface', '10.0.0.10']);
    assert.equal(fromA.status, 200);
  });

  test('a VPC whose link vanishes is restored; the other VPC is unaffected meanwhile', async () => {
    const slot = lattice.b.split('.')[3]!;
    await ip('link', 'del', `tlat${slot}`);
    const fromA = await curlIn(NS.a, `http://${names.a}:${port}/`, ['-4']);
    assert.equal(fromA.status, 200);
    const back = await waitFor(
      async () => {
        const r = await curlIn(NS.b, `http://${names.b}:${port}/`, ['-4', '--max-time', '2']);
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 45_000, message: 'B restored' },
    );
    assert.equal(back!.body, `target-in-b saw ${lattice.b}`);
    await waitFor(() => /lost its link/.test(proc!.output()), { message: 'the loss is logged' });
  });

  test("the user's namespace deleted and created again is attached again", async () => {
    await ip('netns', 'del', NS.c);
    await waitFor(() => /namespace deleted/.test(proc!.output()), {
      timeoutMs: 45_000,
      message: 'the loss is logged with its cause',
    });
    await ip('netns', 'add', NS.c);
    await ip('-n', NS.c, 'addr', 'add', '10.0.0.5/32', 'dev', 'lo');
    await waitFor(async () => (await ip('-n', NS.c, 'route', 'show')).includes(lattice.c), {
      timeoutMs: 45_000,
      message: 'C re-attached (its route to the Lattice address is back)',
    });
    // The same Lattice address answers DNS in the new namespace: NXDOMAIN, C is not associated.
    const code =
      "const r=new (require('dns').promises.Resolver)({timeout:2000,tries:2});r.setServers([process.argv[1]]);" +
      'r.resolve4(process.argv[2]).then(a=>console.log(a.join()),e=>console.log(e.code))';
    const answer = await waitFor(
      async () => {
        const { stdout } = await run('ip', [
          'netns',
          'exec',
          NS.c,
          process.execPath,
          '-e',
          code,
          lattice.c,
          names.a,
        ]);
        return stdout.trim() === 'ENOTFOUND' ? stdout.trim() : undefined;
      },
      { timeoutMs: 45_000, message: 'DNS answers in the re-attached namespace' },
    );
    assert.equal(answer, 'ENOTFOUND');
  });

  test('stopping Trellis removes the namespaces it created, not the user’s', async () => {
    for (const s of servers) s.kill('SIGKILL');
    await Promise.all(
      servers.map((s) =>
        s.exitCode !== null || s.signalCode !== null
          ? undefined
          : new Promise((resolve) => s.once('exit', resolve)),
      ),
    );
    await proc!.stop();
    proc = undefined;
    const left = (await ip('netns', 'list')).split('\n').map((l) => l.split(' ')[0]);
    assert.ok(!left.includes(NS.a), 'created namespace a removed');
    assert.ok(!left.includes(NS.b), 'created namespace b removed');
    assert.ok(left.includes(NS.c), "the user's namespace stays");
    assert.ok(!existsSync(`/etc/netns/${NS.a}`));
    assert.ok(!existsSync(`/etc/netns/${NS.c}/resolv.conf`), 'its resolv.conf is removed');
    assert.equal((await ip('-n', NS.c, 'link', 'show')).includes('lattice0'), false);
  });
});
