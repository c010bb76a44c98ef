/**
 * DNS responder benchmark (issue 8: answers at p99 under 1 ms). A snapshot with 100 VPCs and
 * 2 000 services; a UDP client on loopback sends queries one at a time (so each latency is one
 * full round trip: client send → parse → lookup → answer → client receive) and, separately, with
 * 32 in flight. Also the in-process decision cost (`DnsAnswerer.decide`).
 * Run: `npx tsx bench/dns.ts`. Figures go to bench/dns.md.
 */
import { createSocket } from 'node:dgram';
import { cpus } from 'node:os';
import { createDnsResponder } from '../src/dns/dns-responder.js';
import { DnsAnswerer } from '../src/dns/dns-answerer.js';
import { TYPE_A, TYPE_AAAA, encodeQuery } from '../src/dns/dns-wire.js';
import { compileDnsZones } from '../src/dns/dns-zones.js';
import { DnsSnapshot, ManualSource } from '../test/multi-vpc/dns-fixtures.js';

const VPCS = 100;
const SERVICES = 2000;
const fx = new DnsSnapshot();
const vpcs: string[] = [];
const names: string[] = [];
for (let v = 0; v < VPCS; v++) {
  const vpc = fx.vpc([`127.88.${v}.1`, `fd00:ec2:80::${v + 1}`]);
  vpcs.push(vpc);
  const sn = fx.network();
  fx.associateVpc(sn, vpc);
  for (let s = 0; s < SERVICES / VPCS; s++) {
    const svc = fx.service();
    fx.associateService(sn, svc.id);
    if (v === 0) names.push(svc.dnsName);
  }
}
const snapshot = fx.build();

const t0 = performance.now();
const zones = compileDnsZones(snapshot);
const compileMs = performance.now() - t0;

// In-process decision cost.
const answerer = new DnsAnswerer(vpcs[0], false);
answerer.zones = zones;
const queries = names.map((n, i) => encodeQuery(i, n, i % 2 ? TYPE_AAAA : TYPE_A));
const N = 200_000;
for (let i = 0; i < 50_000; i++) answerer.decide(queries[i % queries.length]!, vpcs[0], 512);
const d0 = process.cpuUsage();
for (let i = 0; i < N; i++) answerer.decide(queries[i % queries.length]!, vpcs[0], 512);
const d1 = process.cpuUsage(d0);
const decideNs = ((d1.user + d1.system) * 1000) / N;

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const source = new ManualSource();
source.push(snapshot);
const dns = createDnsResponder({
  snapshotSource: source,
  listen: { mode: 'address', host: '127.0.0.1', port: 0 },
  defaultVpcId: vpcs[0],
  rateLimit: { queriesPerSecond: 1e9, burst: 1e9 },
});
await dns.start();
const at = dns.endpoints()[0]!;
const client = createSocket('udp4');
await new Promise<void>((r) => client.bind({ address: '127.0.0.1', port: 0 }, r));

/** Sends `total` queries keeping `inFlight` outstanding; a query unanswered for 1 s counts as lost. */
async function run(
  total: number,
  inFlight: number,
): Promise<{ lat: number[]; qps: number; lost: number }> {
  const sentAt = new Map<number, number>();
  const lat: number[] = [];
  let next = 0;
  let lost = 0;
  const start = performance.now();
  await new Promise<void>((done) => {
    const finished = (): boolean => lat.length + lost >= total;
    const send = (): void => {
      if (next >= total) return;
      const id = next++ & 0xffff;
      const q = queries[id % queries.length]!;
      q.writeUInt16BE(id, 0);
      sentAt.set(id, performance.now());
      client.send(q, at.port, at.address);
    };
    const watchdog = setInterval(() => {
      const now = performance.now();
      for (const [id, t] of sentAt)
        if (now - t > 1000) {
          sentAt.delete(id);
          lost++;
          send();
        }
      if (finished()) {
        clearInterval(watchdog);
        done();
      }
    }, 200);
    client.removeAllListeners('message');
    client.on('message', (m) => {
      const id = m.readUInt16BE(0);
      const t = sentAt.get(id);
      if (t === undefined) return;
      lat.push(performance.now() - t);
      sentAt.delete(id);
      if (finished()) {
        clearInterval(watchdog);
        done();
      } else send();
    });
    for (let i = 0; i < inFlight; i++) send();
  });
  return { lat, qps: total / ((performance.now() - start) / 1000), lost };
}

await run(5000, 1); // warm up
const serial = await run(20_000, 1);
const loaded = await run(50_000, 32);
client.close();
await dns.stop();

const f = (n: number): string => n.toFixed(3);
console.log(`host: ${cpus()[0]?.model ?? '?'} × ${cpus().length}, node ${process.version}`);
console.log(`zones: ${VPCS} VPCs, ${SERVICES} services, compiled in ${compileMs.toFixed(1)} ms`);
console.log(`decide (in-process): ${decideNs.toFixed(0)} ns/query (CPU time)`);
console.log(
  `UDP one at a time: p50 ${f(pct(serial.lat, 50))} ms  p99 ${f(pct(serial.lat, 99))} ms  p99.9 ${f(pct(serial.lat, 99.9))} ms  (${serial.qps.toFixed(0)} q/s, ${serial.lost} lost)`,
);
console.log(
  `UDP 32 in flight:  p50 ${f(pct(loaded.lat, 50))} ms  p99 ${f(pct(loaded.lat, 99))} ms  p99.9 ${f(pct(loaded.lat, 99.9))} ms  (${loaded.qps.toFixed(0)} q/s, ${loaded.lost} lost)`,
);
