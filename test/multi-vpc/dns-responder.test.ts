/**
 * The DNS responder over real UDP and TCP sockets (issue 8 §2, spec §7.5): reachable names answer
 * the asking VPC's ingress addresses, unreachable ones NXDOMAIN, other names REFUSED or forwarded;
 * malformed and flooding queries never crash it.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createDnsResponder, type DnsResponder } from '../../src/dns/dns-responder.js';
import { RCODE, TYPE_A, TYPE_AAAA, answerRcode, encodeQuery } from '../../src/dns/dns-wire.js';
import { SERVE_DNS_TAG } from '../../src/dns/dns-zones.js';
import { DnsSnapshot, ManualSource } from './dns-fixtures.js';

function randomNet(): string {
  const r = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));
  return `127.${r(10, 99)}.${r(0, 255)}`;
}

function resolverAt(address: string, port: number): Resolver {
  const r = new Resolver({ timeout: 1000, tries: 1 });
  r.setServers([address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`]);
  return r;
}

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'answered';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

/** Sends raw UDP bytes and collects the answers that arrive within `waitMs`. */
async function udpExchange(
  to: { address: string; port: number },
  messages: Buffer[],
  options: { localAddress?: string; waitMs?: number } = {},
): Promise<Buffer[]> {
  const socket: UdpSocket = createSocket('udp4');
  const got: Buffer[] = [];
  socket.on('message', (m) => got.push(m));
  await new Promise<void>((r) =>
    socket.bind({ address: options.localAddress ?? '127.0.0.1', port: 0 }, r),
  );
  for (const m of messages) socket.send(m, to.port, to.address);
  await new Promise((r) => setTimeout(r, options.waitMs ?? 150));
  socket.close();
  return got;
}

/** Pipelines queries over one TCP connection (RFC 7766 length prefix) and reads the answers. */
function tcpExchange(to: { address: string; port: number }, messages: Buffer[]): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: to.address, port: to.port });
    let buf = Buffer.alloc(0);
    const answers: Buffer[] = [];
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        answers.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (answers.length === messages.length) {
        s.end();
        resolve(answers);
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve(answers));
    // Write the queries split at odd places, as a stream may deliver them.
    const all = Buffer.concat(
      messages.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m])),
    );
    s.write(all.subarray(0, 3));
    setTimeout(() => s.write(all.subarray(3)), 10);
  });
}

describe('DNS responder, plain mode (one local address, the default VPC asks)', () => {
  const net = randomNet();
  const fx = new DnsSnapshot();
  const vpcA = fx.vpc([`${net}.1`, '::1']);
  const vpcB = fx.vpc([`${net}.2`]);
  const snA = fx.network();
  const snB = fx.network();
  fx.associateVpc(snA, vpcA);
  fx.associateVpc(snB, vpcB);
  const plain = fx.service();
  const served = fx.service({
    customDomainName: 'orders.example.internal',
    tags: { [SERVE_DNS_TAG]: 'true' },
  });
  const unserved = fx.service({ customDomainName: 'billing.example.internal' });
  const onlyB = fx.service();
  fx.associateService(snA, plain.id);
  fx.associateService(snA, served.id);
  fx.associateService(snA, unserved.id);
  fx.associateService(snB, onlyB.id);
  const source = new ManualSource();
  let dns: DnsResponder;
  let at: { address: string; port: number };

  before(async () => {
    source.push(fx.build());
    dns = createDnsResponder({
      snapshotSource: source,
      listen: { mode: 'address', host: '127.0.0.1', port: 0 },
      defaultVpcId: vpcA,
      rateLimit: { queriesPerSecond: 10_000, burst: 10_000 },
    });
    await dns.start();
    at = dns.endpoints()[0]!;
  });
  after(() => dns.stop());

  test('A and AAAA of a reachable service are the VPC ingress addresses of that family', async () => {
    const r = resolverAt(at.address, at.port);
    assert.deepEqual(await r.resolve4(plain.dnsName), [`${net}.1`]);
    assert.deepEqual(await r.resolve6(plain.dnsName), ['::1']);
    assert.deepEqual(
      await r.resolve4(plain.dnsName.toUpperCase()),
      [`${net}.1`],
      'case-insensitive',
    );
  });

  test('custom domains answer only when the owner tags the service', async () => {
    const r = resolverAt(at.address, at.port);
    assert.deepEqual(await r.resolve4('orders.example.internal'), [`${net}.1`]);
    assert.equal(await errorCode(r.resolve4('billing.example.internal')), 'EREFUSED');
  });

  test('a service of another VPC’s network and unknown Lattice names are NXDOMAIN', async () => {
    const r = resolverAt(at.address, at.port);
    assert.equal(await errorCode(r.resolve4(onlyB.dnsName)), 'ENOTFOUND');
    assert.equal(
      await errorCode(r.resolve4('nope-0123.abc.vpc-lattice-svcs.us-west-2.on.aws')),
      'ENOTFOUND',
    );
  });

  test('other names are REFUSED without an upstream', async () => {
    assert.equal(
      await errorCode(resolverAt(at.address, at.port).resolve4('example.com')),
      'EREFUSED',
    );
  });

  test('TCP: pipelined queries split across writes are all answered', async () => {
    const answers = await tcpExchange(at, [
      encodeQuery(1, plain.dnsName, TYPE_A),
      encodeQuery(2, onlyB.dnsName, TYPE_A),
      encodeQuery(3, served.dnsName, TYPE_AAAA),
    ]);
    assert.deepEqual(
      answers.map((a) => [a.readUInt16BE(0), answerRcode(a), a.readUInt16BE(6)]),
      [
        [1, RCODE.NOERROR, 1],
        [2, RCODE.NXDOMAIN, 0],
        [3, RCODE.NOERROR, 1],
      ],
    );
  });

  test('malformed queries: FORMERR when the header is readable, silence otherwise, never a crash', async () => {
    const good = encodeQuery(9, plain.dnsName, TYPE_A);
    const twoQuestions = Buffer.from(good);
    twoQuestions.writeUInt16BE(2, 4);
    const loop = Buffer.concat([good.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    loop.writeUInt16BE(10, 0);
    const oversized = Buffer.concat([good, Buffer.alloc(2000)]);
    oversized.writeUInt16BE(11, 0);
    const response = Buffer.from(good);
    response.writeUInt16BE(12, 0);
    response.writeUInt8(response.readUInt8(2) | 0x80, 2);
    const got = await udpExchange(at, [
      Buffer.from([1, 2, 3]),
      twoQuestions,
      loop,
      oversized,
      response,
    ]);
    const byId = new Map(got.map((g) => [g.readUInt16BE(0), answerRcode(g)]));
    assert.deepEqual(
      [...byId.entries()].sort((x, y) => x[0] - y[0]),
      [
        [9, RCODE.FORMERR],
        [10, RCODE.FORMERR],
        [11, RCODE.FORMERR],
      ],
    );
    assert.deepEqual(
      await resolverAt(at.address, at.port).resolve4(plain.dnsName),
      [`${net}.1`],
      'still serving',
    );
  });

  test('a TCP length over the limit closes the connection', async () => {
    const answers = await tcpExchange(at, [Buffer.alloc(5000)]);
    assert.deepEqual(answers, []);
  });

  test('a new snapshot changes the answers (disassociation → NXDOMAIN)', async () => {
    fx.s.serviceNetworkServiceAssociations = fx.s.serviceNetworkServiceAssociations.filter(
      (a) => a.serviceId !== plain.id,
    );
    source.push(fx.build());
    assert.equal(
      await errorCode(resolverAt(at.address, at.port).resolve4(plain.dnsName)),
      'ENOTFOUND',
    );
  });
});

describe('DNS responder, per-VPC mode (each VPC asks on its own ingress address)', () => {
  const net = randomNet();
  const fx = new DnsSnapshot();
  const vpcA = fx.vpc([`${net}.1`]);
  const vpcB = fx.vpc([`${net}.2`]);
  fx.vpc([`${net}.3`]); // not associated with anything
  const snA = fx.network();
  const snB = fx.network();
  fx.associateVpc(snA, vpcA);
  fx.associateVpc(snB, vpcB);
  const inA = fx.service();
  const inB = fx.service();
  fx.associateService(snA, inA.id);
  fx.associateService(snB, inB.id);
  const source = new ManualSource();
  const port = 20_000 + Math.floor(Math.random() * 40_000);
  let dns: DnsResponder;

  before(async () => {
    source.push(fx.build());
    dns = createDnsResponder({ snapshotSource: source, listen: { mode: 'vpcs', port } });
    await dns.start();
  });
  after(() => dns.stop());

  test('the same name answers in one VPC and is NXDOMAIN in the others', async () => {
    assert.deepEqual(
      dns
        .endpoints()
        .map((e) => e.address)
        .sort(),
      [`${net}.1`, `${net}.2`, `${net}.3`],
    );
    const a = resolverAt(`${net}.1`, port);
    const b = resolverAt(`${net}.2`, port);
    const none = resolverAt(`${net}.3`, port);
    assert.deepEqual(await a.resolve4(inA.dnsName), [`${net}.1`]);
    assert.equal(await errorCode(a.resolve4(inB.dnsName)), 'ENOTFOUND');
    assert.deepEqual(await b.resolve4(inB.dnsName), [`${net}.2`]);
    assert.equal(await errorCode(b.resolve4(inA.dnsName)), 'ENOTFOUND');
    assert.equal(await errorCode(none.resolve4(inA.dnsName)), 'ENOTFOUND');
  });

  test('a VPC added later gets its own responder address', async () => {
    const vpcD = fx.vpc([`${net}.4`]);
    fx.associateVpc(snA, vpcD);
    source.push(fx.build());
    const deadline = Date.now() + 2000;
    while (!dns.endpoints().some((e) => e.address === `${net}.4`) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(await resolverAt(`${net}.4`, port).resolve4(inA.dnsName), [`${net}.4`]);
  });
});

describe('DNS responder: forwarding and rate limits', () => {
  const fx = new DnsSnapshot();
  const vpc = fx.vpc(['127.0.0.1']);
  const sn = fx.network();
  fx.associateVpc(sn, vpc);
  const svc = fx.service();
  fx.associateService(sn, svc.id);
  const source = new ManualSource();
  let upstream: UdpSocket;
  let dns: DnsResponder;
  let at: { address: string; port: number };

  before(async () => {
    source.push(fx.build());
    // A fake upstream resolver: answers every query with 192.0.2.7.
    upstream = createSocket('udp4');
    upstream.on('message', (m, rinfo) => {
      const qEnd = m.length;
      const out = Buffer.concat([
        m,
        Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 7]),
      ]);
      out.writeUInt16BE(0x8180, 2);
      out.writeUInt16BE(1, 6);
      void qEnd;
      upstream.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => upstream.bind({ address: '127.0.0.1', port: 0 }, r));
    dns = createDnsResponder({
      snapshotSource: source,
      listen: { mode: 'address', host: '127.0.0.1', port: 0 },
      defaultVpcId: vpc,
      upstream: { host: '127.0.0.1', port: upstream.address().port },
      rateLimit: { queriesPerSecond: 5, burst: 10 },
    });
    await dns.start();
    at = dns.endpoints()[0]!;
  });
  after(async () => {
    await dns.stop();
    upstream.close();
  });

  test('non-Lattice names are forwarded upstream; Lattice names are not', async () => {
    const r = resolverAt(at.address, at.port);
    assert.deepEqual(await r.resolve4('example.com'), ['192.0.2.7']);
    assert.equal(
      await errorCode(r.resolve4('gone-1.x.vpc-lattice-svcs.us-west-2.on.aws')),
      'ENOTFOUND',
    );
    assert.equal(dns.stats.forwarded, 1);
  });

  test('a flooding source is limited to its bucket; another source is still answered', async () => {
    await new Promise((r) => setTimeout(r, 2100)); // refill after the previous test
    const flood = Array.from({ length: 60 }, (_, i) => encodeQuery(i, svc.dnsName, TYPE_A));
    const got = await udpExchange(at, flood, { localAddress: '127.0.0.2', waitMs: 200 });
    assert.ok(got.length >= 10 && got.length <= 12, `answered ${got.length} of 60`);
    assert.ok(dns.stats.rateLimited >= 48);
    const other = await udpExchange(at, [encodeQuery(1, svc.dnsName, TYPE_A)], {
      localAddress: '127.0.0.3',
    });
    assert.equal(other.length, 1);
  });
});
