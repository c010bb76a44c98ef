/**
 * Micro-benchmark of the data plane's auth gate (spec §2): the per-request cost of
 * `gate.check` with 2 statements at each level (identity, network, service), warm caches
 * (derived signing keys, compiled policies, per-snapshot key index). Requests are signed once by
 * the official signers, then checked in a loop on a fake IncomingMessage.
 * Run: `npx tsx bench/auth-gate.ts`. Figures go to bench/auth.md.
 */
import type { IncomingMessage } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4a } from '@aws-sdk/signature-v4a';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AuthGateInput } from '../src/dataplane/auth-gate.js';
import { ServiceBinding } from '../src/dataplane/compile-snapshot.js';
import { createSigV4AuthGate } from '../src/dataplane/sigv4-auth-gate.js';
import { SnapshotBuilder } from '../src/dataplane/test-support/snapshot-builder.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const ACCOUNT = '111122223333';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Order`;
const CREDS = {
  accessKeyId: 'ASIABENCHSESSION0001',
  secretAccessKey: 'bench/secret/key/000000000000000000000',
  sessionToken: 'bench-session-token',
};

function time(label: string, iterations: number, fn: () => void, rounds = 5): number {
  for (let i = 0; i < Math.min(iterations, 5000); i++) fn(); // warm up
  let bestCpu = Infinity;
  let bestWall = Infinity;
  for (let r = 0; r < rounds; r++) {
    const cpu0 = process.cpuUsage();
    const wall0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    const wall = Number(process.hrtime.bigint() - wall0) / iterations;
    const cpu = process.cpuUsage(cpu0);
    bestCpu = Math.min(bestCpu, ((cpu.user + cpu.system) * 1000) / iterations);
    bestWall = Math.min(bestWall, wall);
  }
  const fmt = (ns: number) =>
    ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`;
  console.log(
    `${label.padEnd(64)} ${fmt(bestCpu).padStart(10)} cpu ${fmt(bestWall).padStart(10)} wall`,
  );
  return bestCpu;
}

// A snapshot: one AWS_IAM network and service, 2 statements at each level.
const b = new SnapshotBuilder();
const vpc = b.vpc(['127.0.0.1']);
const net = b.network('AWS_IAM');
b.associateVpc(net, vpc);
const svc = b.service({ authType: 'AWS_IAM' });
b.associateService(net, svc);
const host = b.hostOf(svc);
const doc = (s: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: s });
const put = (resourceId: string, arn: string, policy: string) =>
  b.s.authPolicies.push({
    resourceId,
    resourceArn: arn,
    policy,
    createdAt: NOW.toISOString(),
    lastUpdatedAt: NOW.toISOString(),
    accountId: ACCOUNT,
  });
put(
  net,
  b.networkArnOf(net),
  doc([
    { Effect: 'Allow', Principal: '*', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' },
    { Effect: 'Deny', Principal: '*', Action: '*', Resource: '*/admin*' },
  ]),
);
put(
  svc,
  b.serviceArnOf(svc),
  doc([
    {
      Effect: 'Allow',
      Principal: '*',
      Action: 'vpc-lattice-svcs:Invoke',
      Resource: `${b.serviceArnOf(svc)}/stock*`,
      Condition: { StringEquals: { 'vpc-lattice-svcs:RequestMethod': ['GET', 'HEAD'] } },
    },
    {
      Effect: 'Deny',
      Principal: '*',
      Action: 'vpc-lattice-svcs:Invoke',
      Resource: '*',
      Condition: { StringEquals: { 'vpc-lattice-svcs:RequestHeader/x-debug': 'on' } },
    },
  ]),
);
b.s.accounts.push({
  accountId: ACCOUNT,
  organizationId: 'o-bench12345',
  createdAt: NOW.toISOString(),
});
b.s.roles.push({
  roleId: 'AROABENCH',
  roleName: 'Order',
  arn: ROLE_ARN,
  accountId: ACCOUNT,
  path: '/',
  assumeRolePolicyDocument: '{}',
  maxSessionDuration: 3600,
  createdAt: NOW.toISOString(),
  tags: { team: 'orders' },
  inlinePolicies: {
    invoke: doc([
      { Effect: 'Allow', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' },
      {
        Effect: 'Deny',
        Action: 'vpc-lattice-svcs:Invoke',
        Resource: '*',
        Condition: { StringEquals: { 'aws:PrincipalTag/team': 'blocked' } },
      },
    ]),
  },
});
b.s.accessKeys.push({
  ...CREDS,
  status: 'Active',
  accountId: ACCOUNT,
  principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/Order/bench`,
  roleArn: ROLE_ARN,
  sessionName: 'bench',
  expiration: new Date(NOW.getTime() + 3_600_000).toISOString(),
  createdAt: NOW.toISOString(),
});
const snapshot = b.build();
const service = snapshot.services.find((s) => s.id === svc)!;
const network = snapshot.serviceNetworks.find((n) => n.id === net)!;
const binding = new ServiceBinding(service, network, new Map());

const gate = createSigV4AuthGate({ region: b.region, now: () => NOW.getTime() });
const t0 = process.hrtime.bigint();
const prepared = gate.prepare!(snapshot);
console.log(
  `prepare (compile the snapshot's auth index): ${Number(process.hrtime.bigint() - t0) / 1000} µs`,
);

const CLIENT_HEADERS = {
  'user-agent': 'aws-sdk-js/3 ua/2.1 os/linux lang/js md/nodejs#20',
  accept: '*/*',
  'accept-encoding': 'gzip, deflate',
};

async function signed(method: string, path: string, v4a = false): Promise<IncomingMessage> {
  const req = new HttpRequest({
    method,
    protocol: 'http:',
    hostname: host,
    path,
    headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  });
  const common = {
    service: 'vpc-lattice-svcs',
    credentials: CREDS,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  };
  const out = v4a
    ? await new SignatureV4a({ ...common, region: '*' }).sign(req, { signingDate: NOW })
    : await new SignatureV4({ ...common, region: b.region }).sign(req, { signingDate: NOW });
  const headers: Record<string, string> = { ...CLIENT_HEADERS };
  for (const [k, v] of Object.entries(out.headers)) headers[k.toLowerCase()] = String(v);
  return fakeRequest(method, path, headers);
}

function fakeRequest(
  method: string,
  url: string,
  headers: Record<string, string>,
): IncomingMessage {
  return {
    method,
    url,
    headers,
    socket: { remoteAddress: '10.0.0.7', localPort: 8080 },
  } as unknown as IncomingMessage;
}

const input = (request: IncomingMessage, path: string): AuthGateInput => ({
  binding,
  sourceVpcId: vpc,
  request,
  port: 8080,
  path,
  prepared,
});

const cases: [string, AuthGateInput, boolean][] = [
  [
    'anonymous GET /stock (network + service, allowed)',
    input(fakeRequest('GET', '/stock', { host, ...CLIENT_HEADERS }), '/stock'),
    true,
  ],
  [
    'SigV4 session GET /stock (verify + 3 levels, allowed)',
    input(await signed('GET', '/stock'), '/stock'),
    true,
  ],
  [
    'SigV4 session POST /stock (denied, message built)',
    input(await signed('POST', '/stock'), '/stock'),
    false,
  ],
  [
    'SigV4A session GET /stock (ECDSA verify + 3 levels, allowed)',
    input(await signed('GET', '/stock', true), '/stock'),
    true,
  ],
];
for (const [label, i, allow] of cases) {
  const d = gate.check(i);
  if (d.allow !== allow)
    throw new Error(`${label}: expected allow=${allow}, got ${JSON.stringify(d)}`);
  time(`gate.check: ${label}`, label.includes('SigV4A') ? 2_000 : 50_000, () => gate.check(i));
}
