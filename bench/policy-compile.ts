/**
 * Micro-benchmark of the policy engine (spec §2): parse+compile of a ~10 KB auth policy (target
 * < 1 ms) and evaluation ns/op of a 2-statement policy. Run: `npx tsx bench/policy-compile.ts`.
 */
import {
  authorizeLatticeRequest,
  chainKeys,
  compilePolicy,
  createPrincipalKeys,
  createStaticKeys,
  evaluatePolicy,
  parsePolicy,
  type AuthorizationContext,
} from '../src/iam/policy/index.js';

const ACCT = '123456789012';
const SVC = `arn:aws:vpc-lattice:us-east-1:${ACCT}:service/svc-0a1b2c3d4e5f60001`;
const ROLE = `arn:aws:iam::${ACCT}:role/OrderFunctionRole`;

function bigPolicy(): string {
  const statements: unknown[] = [];
  for (let i = 0; ; i++) {
    statements.push({
      Sid: `S${i}`,
      Effect: i % 7 === 6 ? 'Deny' : 'Allow',
      Principal: { AWS: [`arn:aws:iam::${ACCT}:role/Role${i}`, ACCT] },
      Action: ['vpc-lattice-svcs:Invoke'],
      Resource: [`${SVC}/api/v${i}/*`, `*/items/${i}?`],
      Condition: {
        StringEquals: { 'vpc-lattice-svcs:RequestMethod': ['GET', 'HEAD'] },
        IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] },
        'ForAnyValue:StringLike': { 'vpc-lattice-svcs:RequestQueryString/tag': [`t${i}*`] },
      },
    });
    const text = JSON.stringify({ Version: '2012-10-17', Statement: statements });
    if (text.length > 9_800)
      return JSON.stringify({ Version: '2012-10-17', Statement: statements.slice(0, -1) });
  }
}

function time(label: string, iterations: number, fn: () => void): number {
  for (let i = 0; i < Math.min(iterations, 2000); i++) fn(); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  console.log(
    `${label.padEnd(58)} ${ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`}/op`,
  );
  return ns;
}

const text = bigPolicy();
const doc = parsePolicy(text, { kind: 'resource' });
console.log(`policy: ${Buffer.byteLength(text)} bytes, ${doc.Statement.length} statements`);
time('parsePolicy (~10 KB)', 2000, () => parsePolicy(text, { kind: 'resource' }));
time('compilePolicy (~10 KB, parsed)', 2000, () => compilePolicy(doc, { level: 'Service' }));
time('parse + compile (~10 KB)', 2000, () =>
  compilePolicy(parsePolicy(text, { kind: 'resource' }), { level: 'Service' }),
);

const two = compilePolicy(
  parsePolicy(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: ROLE },
          Action: 'vpc-lattice-svcs:Invoke',
          Resource: `${SVC}/stock`,
          Condition: { StringEquals: { 'vpc-lattice-svcs:RequestMethod': 'GET' } },
        },
        {
          Effect: 'Allow',
          Principal: { AWS: ROLE },
          Action: 'vpc-lattice-svcs:Invoke',
          Resource: `${SVC}/delivery*`,
        },
      ],
    }),
    { kind: 'resource' },
  ),
  { level: 'Service' },
);
const principal = {
  arn: `arn:aws:sts::${ACCT}:assumed-role/OrderFunctionRole/order-fn`,
  accountId: ACCT,
  type: 'AssumedRole' as const,
  roleArn: ROLE,
};
const request = createStaticKeys({ 'vpc-lattice-svcs:RequestMethod': 'GET' });
const keys = chainKeys(request, createPrincipalKeys(principal));
const hit: AuthorizationContext = {
  action: 'vpc-lattice-svcs:Invoke',
  resource: `${SVC}/stock`,
  principal,
  keys,
};
const prefixHit: AuthorizationContext = { ...hit, resource: `${SVC}/delivery/42` };
const miss: AuthorizationContext = { ...hit, resource: `${SVC}/other` };
let sink = 0;
time('evaluatePolicy 2 statements, Allow by Statement[0]', 2_000_000, () => {
  if (evaluatePolicy(two, hit).effect === 'Allow') sink++;
});
time('evaluatePolicy 2 statements, Allow by prefix Statement[1]', 2_000_000, () => {
  if (evaluatePolicy(two, prefixHit).effect === 'Allow') sink++;
});
time('evaluatePolicy 2 statements, NoMatch', 2_000_000, () => {
  if (evaluatePolicy(two, miss).effect === 'NoMatch') sink++;
});
time('authorizeLatticeRequest (network NONE, service 2-stmt)', 1_000_000, () => {
  const d = authorizeLatticeRequest({
    network: { authType: 'NONE' },
    service: { authType: 'AWS_IAM', policy: two },
    identityPolicies: [two],
    ctx: hit,
  });
  if (d.allowed) sink++;
});
time('per-request key readers + evaluatePolicy', 1_000_000, () => {
  const ctx: AuthorizationContext = {
    action: 'vpc-lattice-svcs:Invoke',
    resource: `${SVC}/stock`,
    principal,
    keys: chainKeys(request, createPrincipalKeys(principal)),
  };
  if (evaluatePolicy(two, ctx).effect === 'Allow') sink++;
});
if (sink === 0) console.log('unexpected: nothing allowed');
