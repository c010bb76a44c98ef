/**
 * Data-plane throughput with `AWS_IAM` on both the service network and the service (2 statements
 * each, SigV4-signed requests) against the same chain with `authType: NONE`, in the same run,
 * interleaved round by round (auth issue: at least 0.85× the NONE figure).
 *
 * Run: `npx tsx bench/auth-throughput.ts` (needs `wrk` and `nginx`: `apt-get install -y wrk
 * nginx-light`). Env: `BENCH_ROUNDS` (default 3), `BENCH_SECONDS` (default 8).
 *
 * The signed request is signed once with `@smithy/signature-v4` and replayed by wrk: a SigV4
 * signature stays valid for the ±5 minute skew window, and the verifier still does the full
 * canonicalisation and HMAC per request (only the derived signing key is cached, as in production).
 */
import { request } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  PutAuthPolicyCommand,
  UpdateServiceCommand,
  UpdateServiceNetworkCommand,
} from '@aws-sdk/client-vpc-lattice';
import { SignatureV4 } from '@smithy/signature-v4';
import { startTrellis } from '../test/support/trellis-process.js';
import {
  fmt,
  freePort,
  median,
  printResult,
  progress,
  randomLoopback,
  requireTools,
  saveResult,
  sleep,
  spawnTracked,
  type BenchResult,
} from './support/bench-kit.js';
import { createProxyChain, defaultVpcId, waitHealthy } from './support/lattice-setup.js';
import { startNginx } from './support/nginx.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

interface WrkRun {
  rps: number;
  non2xx: number;
}

function wrk(url: string, headers: Record<string, string>): Promise<WrkRun> {
  const args = ['-t1', '-c50', `-d${SECONDS}s`];
  // wrk adds its own Host unless one named exactly `Host` is given; two would be a 400.
  for (const [k, v] of Object.entries(headers))
    args.push('-H', `${k === 'host' ? 'Host' : k}: ${v}`);
  args.push(url);
  const child = spawnTracked('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), (SECONDS + 30) * 1000);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      if (code !== 0 || !rps) return reject(new Error(`wrk failed (${code}): ${out}`));
      resolve({
        rps: Number(rps[1]),
        non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
      });
    });
  });
}

/** Status of one GET /stock with the given headers (Host included; fetch would drop it). */
function probeStatus(
  address: string,
  port: number,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path: '/stock', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Two statements per policy, as the figure asks. */
function policy(serviceOrNetworkArn: string, accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadStock',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'vpc-lattice-svcs:Invoke',
        Resource: `${serviceOrNetworkArn}*`,
        Condition: { StringEquals: { 'vpc-lattice-svcs:RequestMethod': 'GET' } },
      },
      {
        Sid: 'DenyAdmin',
        Effect: 'Deny',
        Principal: '*',
        Action: 'vpc-lattice-svcs:Invoke',
        Resource: '*/admin*',
      },
    ],
  });
}

export async function run(): Promise<BenchResult> {
  requireTools([
    { bin: 'wrk', versionArgs: ['-v'] },
    { bin: 'nginx', versionArgs: ['-v'] },
  ]);
  const started = Date.now();
  const ingress = randomLoopback();
  const originAddress = randomLoopback();
  const origin = await startNginx({
    address: originAddress,
    port: await freePort(originAddress),
    workers: 1,
    role: { kind: 'origin' },
  });
  const proc = await startTrellis({ args: ['--dataplane-host', ingress] });
  try {
    const lattice = proc.lattice();
    const vpcId = defaultVpcId(proc.accountId);
    const upstream = { address: origin.address, port: origin.port };
    const openPort = await freePort(ingress);
    const open = await createProxyChain(lattice, {
      name: 'open',
      vpcId,
      upstream,
      listenerPort: openPort,
    });
    // One VPC association per VPC: the measured service shares the network of the first chain.
    const securedPort = await freePort(ingress);
    const secured = await createProxyChain(lattice, {
      name: 'secured',
      vpcId,
      upstream,
      listenerPort: securedPort,
      serviceNetworkId: open.serviceNetworkId,
    });
    await waitHealthy(lattice, open.targetGroupId);
    await waitHealthy(lattice, secured.targetGroupId);
    progress(started, 'chains ready; measuring authType NONE on both levels first');

    const region = proc.region;
    const signer = new SignatureV4({
      service: 'vpc-lattice-svcs',
      region,
      credentials: proc.credentials,
      sha256: Sha256,
      uriEscapePath: false,
    });
    const signedHeaders = async (host: string): Promise<Record<string, string>> => {
      const signed = await signer.sign({
        method: 'GET',
        protocol: 'http:',
        hostname: host,
        path: '/stock',
        headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      });
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(signed.headers)) out[k] = String(v);
      return out;
    };

    const none: number[] = [];
    const iam: number[] = [];
    const details: string[] = [];
    // Round 0 is a warm-up of both; then interleave NONE and AWS_IAM.
    const snArn = `arn:aws:vpc-lattice:${region}:${proc.accountId}:servicenetwork/${open.serviceNetworkId}`;
    const svcArn = `arn:aws:vpc-lattice:${region}:${proc.accountId}:service/${secured.serviceId}`;
    await lattice.send(
      new PutAuthPolicyCommand({
        resourceIdentifier: open.serviceNetworkId,
        policy: policy(snArn.replace(/servicenetwork\/.*/, 'service/'), proc.accountId),
      }),
    );
    await lattice.send(
      new PutAuthPolicyCommand({
        resourceIdentifier: secured.serviceId,
        policy: policy(svcArn, proc.accountId),
      }),
    );
    for (let round = 0; round <= ROUNDS; round++) {
      // NONE on both levels: both chains anonymous.
      await lattice.send(
        new UpdateServiceNetworkCommand({
          serviceNetworkIdentifier: open.serviceNetworkId,
          authType: 'NONE',
        }),
      );
      await lattice.send(
        new UpdateServiceCommand({ serviceIdentifier: secured.serviceId, authType: 'NONE' }),
      );
      await sleep(300);
      const probeNone = await probeStatus(ingress, securedPort, { host: secured.host });
      if (probeNone !== 200)
        throw new Error(`unsigned request with authType NONE answered ${probeNone}`);
      const a = await wrk(`http://${ingress}:${securedPort}/stock`, { host: secured.host });
      // AWS_IAM on both levels, signed requests.
      await lattice.send(
        new UpdateServiceNetworkCommand({
          serviceNetworkIdentifier: open.serviceNetworkId,
          authType: 'AWS_IAM',
        }),
      );
      await lattice.send(
        new UpdateServiceCommand({ serviceIdentifier: secured.serviceId, authType: 'AWS_IAM' }),
      );
      await sleep(300);
      const headers = await signedHeaders(secured.host);
      const check = await probeStatus(ingress, securedPort, headers);
      if (check !== 200) throw new Error(`signed request answered ${check}`);
      const b = await wrk(`http://${ingress}:${securedPort}/stock`, headers);
      if (a.non2xx || b.non2xx)
        details.push(`round ${round}: non-2xx NONE ${a.non2xx}, AWS_IAM ${b.non2xx}`);
      details.push(
        `round ${round}${round === 0 ? ' (warm-up)' : ''}: NONE ${fmt(a.rps, 0)} req/s, AWS_IAM ${fmt(b.rps, 0)} req/s, ratio ${fmt(b.rps / a.rps)}`,
      );
      progress(started, details[details.length - 1]!);
      if (round > 0) {
        none.push(a.rps);
        iam.push(b.rps);
      }
    }
    const ratio = median(iam) / median(none);
    const result: BenchResult = {
      bench: 'auth-throughput',
      commands: [
        'npx tsx bench/auth-throughput.ts',
        `wrk -t1 -c50 -d${SECONDS}s (signed headers replayed)`,
      ],
      figures: [
        { name: 'throughput, authType NONE (median req/s)', value: median(none), unit: 'req/s' },
        {
          name: 'throughput, AWS_IAM both levels, SigV4 (median req/s)',
          value: median(iam),
          unit: 'req/s',
        },
        {
          name: 'AWS_IAM / NONE throughput',
          value: ratio,
          unit: '×',
          target: '≥ 0.85',
          pass: ratio >= 0.85,
        },
      ],
      details,
    };
    saveResult(result);
    return result;
  } finally {
    await proc.stop();
    await origin.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await run();
  printResult(result);
  for (const d of result.details) console.log(d);
  process.exit(0);
}
