import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4a } from '@aws-sdk/signature-v4a';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { formatIdentityHeader, formatIdentityTagsHeader } from '../iam/lattice-identity.js';
import type { AccessKey } from '../model/iam-types.js';
import { createSigV4AuthGate } from './sigv4-auth-gate.js';
import { compileAuth } from './compile-auth.js';
import { ServiceBinding } from './compile-snapshot.js';
import { parseMapHeader } from './lambda-event.js';
import { startPlane, type Plane } from './test-support/harness.js';
import {
  randomLoopback,
  randomPort,
  send,
  startUpstream,
  type EchoBody,
  type Reply,
  type Upstream,
} from './test-support/net.js';
import { SnapshotBuilder, forward } from './test-support/snapshot-builder.js';

const ACCOUNT = '111122223333';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Order`;
const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/Order/order-1`;
const ALICE_ARN = `arn:aws:iam::${ACCOUNT}:user/alice`;
const NOW = '2026-01-01T00:00:00.000Z';

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}
const ORDER: Creds = {
  accessKeyId: 'ASIAORDERSESSION0001',
  secretAccessKey: 'order/secret/key/0000000000000000000000',
  sessionToken: 'order-session-token;with=odd+chars',
};
const EXPIRED: Creds = {
  accessKeyId: 'ASIAORDEREXPIRED0001',
  secretAccessKey: 'expired/secret/key/00000000000000000000',
  sessionToken: 'expired-token',
};
const ALICE: Creds = {
  accessKeyId: 'AKIAALICE00000000001',
  secretAccessKey: 'alice/secret/key/000000000000000000000',
};
const ROOT: Creds = {
  accessKeyId: 'AKIAROOT000000000001',
  secretAccessKey: 'root/secret/key/0000000000000000000000',
};

interface SignOpts {
  method?: string;
  path?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  creds?: Creds;
  v4a?: boolean;
  payloadHash?: string;
  presign?: boolean;
  region?: string;
  service?: string;
}

/** Signs like the AWS SDK data-plane samples (spec §2.2) with the official signers. */
async function sign(
  host: string,
  o: SignOpts,
): Promise<{ path: string; headers: Record<string, string> }> {
  const creds = o.creds ?? ORDER;
  const headers: Record<string, string> = {
    host,
    'x-amz-content-sha256': o.payloadHash ?? 'UNSIGNED-PAYLOAD',
    ...o.headers,
  };
  const req = new HttpRequest({
    method: o.method ?? 'GET',
    protocol: 'http:',
    hostname: host,
    path: o.path ?? '/',
    query: o.query ?? {},
    headers,
  });
  const common = {
    service: o.service ?? 'vpc-lattice-svcs',
    credentials: creds,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  };
  let signed: HttpRequest;
  if (o.v4a)
    signed = (await new SignatureV4a({ ...common, region: '*' }).sign(req, {})) as HttpRequest;
  else {
    const signer = new SignatureV4({ ...common, region: o.region ?? 'us-west-2' });
    signed = (
      o.presign ? await signer.presign(req, { expiresIn: 300 }) : await signer.sign(req)
    ) as HttpRequest;
  }
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(signed.query))
    for (const x of Array.isArray(v) ? v : [v]) if (x !== null) qs.append(k, x);
  const text = qs.toString().replace(/\+/g, '%20');
  return { path: signed.path + (text ? `?${text}` : ''), headers: signed.headers };
}

describe('SigV4 auth gate (hand-built snapshot, in-process data plane)', () => {
  const ingress = randomLoopback();
  const port = randomPort();
  const b = new SnapshotBuilder();
  let up: Upstream;
  let plane: Plane;
  let inventory = '';
  let delivery = '';
  let open = '';
  let network = '';
  const host: Record<string, string> = {};

  before(async () => {
    up = await startUpstream('t');
    const vpc = b.vpc([ingress]);
    network = b.network('AWS_IAM');
    b.associateVpc(network, vpc);
    const tg = b.targetGroup('IP', { port: up.port });
    b.target(tg, '127.0.0.1');
    const add = (name: string): string => {
      const id = b.service({ authType: 'AWS_IAM' });
      b.associateService(network, id);
      b.listener(id, port, forward(tg));
      host[name] = b.hostOf(id);
      return id;
    };
    inventory = add('inventory');
    delivery = add('delivery');
    open = add('open');
    b.s.services.find((s) => s.id === open)!.tags = { Team: 'Public' };
    const policy = (resourceId: string, doc: unknown) =>
      b.s.authPolicies.push({
        resourceId,
        resourceArn: resourceId.startsWith('sn-')
          ? b.networkArnOf(resourceId)
          : b.serviceArnOf(resourceId),
        policy: JSON.stringify(doc),
        createdAt: NOW,
        lastUpdatedAt: NOW,
        accountId: ACCOUNT,
      });
    // Network: anyone in, except /admin anywhere (explicit deny).
    policy(network, {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' },
        { Sid: 'NoAdmin', Effect: 'Deny', Principal: '*', Action: '*', Resource: '*/admin*' },
      ],
    });
    // The announcement's policy: Order may GET /stock on Inventory, anything on /delivery*.
    policy(inventory, {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: ROLE_ARN },
          Action: 'vpc-lattice-svcs:Invoke',
          Resource: `${b.serviceArnOf(inventory)}/stock`,
          Condition: { StringEquals: { 'vpc-lattice-svcs:RequestMethod': 'GET' } },
        },
      ],
    });
    policy(delivery, {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: ROLE_ARN },
          Action: 'vpc-lattice-svcs:Invoke',
          Resource: `${b.serviceArnOf(delivery)}/delivery*`,
        },
      ],
    });
    policy(open, {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' },
        {
          Sid: 'BlockedHeader',
          Effect: 'Deny',
          Principal: '*',
          Action: 'vpc-lattice-svcs:Invoke',
          Resource: '*',
          Condition: {
            StringEquals: { 'vpc-lattice-svcs:RequestHeader/x-block': 'yes' },
          },
        },
        {
          Sid: 'BlockedQuery',
          Effect: 'Deny',
          Principal: '*',
          Action: 'vpc-lattice-svcs:Invoke',
          Resource: '*',
          Condition: {
            'ForAnyValue:StringEquals': { 'vpc-lattice-svcs:RequestQueryString/mode': 'debug' },
          },
        },
        {
          Sid: 'OnlyPublic',
          Effect: 'Deny',
          Principal: '*',
          Action: 'vpc-lattice-svcs:Invoke',
          Resource: '*',
          Condition: { StringNotEquals: { 'aws:ResourceTag/team': 'Public' } },
        },
      ],
    });
    b.s.accounts.push({ accountId: ACCOUNT, organizationId: 'o-abc123', createdAt: NOW });
    b.s.roles.push({
      roleId: 'AROAORDER',
      roleName: 'Order',
      arn: ROLE_ARN,
      accountId: ACCOUNT,
      path: '/',
      assumeRolePolicyDocument: '{}',
      maxSessionDuration: 3600,
      createdAt: NOW,
      tags: { team: 'orders', tier: 'gold' },
      inlinePolicies: {
        invoke: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' }],
        }),
      },
    });
    b.s.users.push({
      userId: 'AIDAALICE',
      userName: 'alice',
      arn: ALICE_ARN,
      accountId: ACCOUNT,
      path: '/',
      createdAt: NOW,
    });
    const key = (c: Creds, extra: Partial<AccessKey>): void => {
      b.s.accessKeys.push({
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        status: 'Active',
        accountId: ACCOUNT,
        principalArn: ALICE_ARN,
        createdAt: NOW,
        ...(c.sessionToken !== undefined ? { sessionToken: c.sessionToken } : {}),
        ...extra,
      });
    };
    const session = {
      principalArn: SESSION_ARN,
      roleArn: ROLE_ARN,
      sessionName: 'order-1',
    };
    key(ORDER, {
      ...session,
      expiration: new Date(Date.now() + 3_600_000).toISOString(),
      sessionTags: { tier: 'plat;inum' },
    });
    key(EXPIRED, { ...session, expiration: new Date(Date.now() - 1000).toISOString() });
    key(ALICE, {});
    key(ROOT, { principalArn: `arn:aws:iam::${ACCOUNT}:root` });
    plane = await startPlane(b, { authGate: createSigV4AuthGate({ region: 'us-west-2' }) });
  });

  after(async () => {
    await plane.stop();
    await up.close();
  });

  async function call(
    name: string,
    o: SignOpts & { unsigned?: boolean; raw?: Record<string, string> },
  ): Promise<Reply> {
    const h = host[name]!;
    if (o.unsigned) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(o.query ?? {}))
        for (const x of Array.isArray(v) ? v : [v]) params.append(k, x);
      const qs = params.toString();
      return send(ingress, port, {
        host: h,
        method: o.method ?? 'GET',
        path: (o.path ?? '/') + (qs ? `?${qs}` : ''),
        headers: { ...o.headers, ...o.raw },
      });
    }
    const s = await sign(h, o);
    return send(ingress, port, {
      host: h,
      method: o.method ?? 'GET',
      path: s.path,
      headers: { ...s.headers, ...o.raw },
    });
  }
  const echo = (r: Reply): EchoBody => JSON.parse(r.body) as EchoBody;
  const lastRecord = () => plane.records[plane.records.length - 1]!;
  const denial = (user: string, svc: string, path: string, tail: string) =>
    `AccessDeniedException: User: ${user} is not authorized to perform: vpc-lattice-svcs:Invoke on resource: ${b.serviceArnOf(svc)}${path} ${tail}\n`;

  it('Order GET /stock on Inventory: allowed, the target gets the identity headers', async () => {
    const r = await call('inventory', { path: '/stock' });
    assert.equal(r.status, 200, r.body);
    const seen = echo(r).headers;
    assert.equal(
      seen['x-amzn-lattice-identity'],
      `Principal=${SESSION_ARN}; PrincipalOrgID=o-abc123; SessionName=order-1; Type=AWS_IAM`,
    );
    assert.equal(
      seen['x-amzn-lattice-identity-tags'],
      `principal=${SESSION_ARN};principalorgid=o-abc123;team=orders;tier=plat\\;inum`,
    );
    const rec = lastRecord();
    assert.equal(rec.resolvedUser, SESSION_ARN);
    assert.equal(rec.auth?.callerPrincipal, SESSION_ARN);
    assert.equal(rec.auth?.callerPrincipalOrgID, 'o-abc123');
    assert.deepEqual(JSON.parse(rec.auth?.callerPrincipalTags ?? ''), {
      team: 'orders',
      tier: 'plat;inum',
    });
  });

  it('Order POST /stock: 403 with the §2.5 message, Service reason', async () => {
    const r = await call('inventory', { method: 'POST', path: '/stock' });
    assert.equal(r.status, 403);
    assert.equal(
      r.body,
      denial(
        SESSION_ARN,
        inventory,
        '/stock',
        'because no service-based policy allows the vpc-lattice-svcs:Invoke action',
      ),
    );
    assert.equal(lastRecord().authDeniedReason, 'Service');
    assert.equal(lastRecord().failureReason, 'ClientAccessDenied');
    assert.equal(lastRecord().auth?.deniedBy, 'Service: no statement allows');
  });

  for (const [method, path] of [
    ['POST', '/delivery'],
    ['DELETE', '/delivery/42'],
    ['GET', '/delivery-status'],
  ] as const) {
    it(`Order ${method} ${path} on Delivery: allowed`, async () => {
      const r = await call('delivery', { method, path });
      assert.equal(r.status, 200, r.body);
    });
  }

  it('SigV4A (AWS4-ECDSA-P256-SHA256, region set *) is accepted', async () => {
    const r = await call('inventory', { path: '/stock', v4a: true });
    assert.equal(r.status, 200, r.body);
    assert.match(String(echo(r).headers['x-amzn-lattice-identity']), /SessionName=order-1/);
  });

  it('pre-signed URLs are accepted', async () => {
    const r = await call('inventory', { path: '/stock', presign: true });
    assert.equal(r.status, 200, r.body);
  });

  it('anonymous caller allowed by Principal "*": no identity headers, forged ones stripped', async () => {
    const r = await call('open', {
      unsigned: true,
      path: '/hello',
      headers: {
        'x-amzn-lattice-identity': 'Principal=arn:aws:iam::999999999999:root; Type=AWS_IAM',
        'x-amzn-lattice-identity-tags': 'principal=forged',
      },
    });
    assert.equal(r.status, 200, r.body);
    const seen = echo(r).headers;
    assert.equal(seen['x-amzn-lattice-identity'], undefined);
    assert.equal(seen['x-amzn-lattice-identity-tags'], undefined);
    assert.equal(lastRecord().resolvedUser, 'Anonymous');
  });

  it('a signed caller has forged identity headers replaced by its own', async () => {
    const r = await call('open', {
      path: '/hello',
      raw: { 'x-amzn-lattice-identity': 'Principal=forged' },
    });
    assert.equal(r.status, 200, r.body);
    assert.match(String(echo(r).headers['x-amzn-lattice-identity']), /^Principal=arn:aws:sts::/);
  });

  it('anonymous caller on Inventory: 403, User: anonymous, Service', async () => {
    const r = await call('inventory', { unsigned: true, path: '/stock' });
    assert.equal(r.status, 403);
    assert.equal(
      r.body,
      denial(
        'anonymous',
        inventory,
        '/stock',
        'because no service-based policy allows the vpc-lattice-svcs:Invoke action',
      ),
    );
    assert.equal(lastRecord().resolvedUser, 'Anonymous');
  });

  it('explicit deny in the network policy wins: Network reason, statement recorded', async () => {
    const r = await call('open', { path: '/admin/x' });
    assert.equal(r.status, 403);
    assert.equal(
      r.body,
      denial(
        SESSION_ARN,
        open,
        '/admin/x',
        'with an explicit deny in a service network-based policy',
      ),
    );
    assert.equal(lastRecord().authDeniedReason, 'Network');
    assert.match(
      lastRecord().auth?.deniedBy ?? '',
      /Network policy .*Statement\[1\] \(Sid "NoAdmin"\) \(explicit deny\)/,
    );
  });

  it('a user without identity policies: Identity reason', async () => {
    const r = await call('open', { path: '/x', creds: ALICE });
    assert.equal(r.status, 403);
    assert.equal(
      r.body,
      denial(
        ALICE_ARN,
        open,
        '/x',
        'because no identity-based policy allows the vpc-lattice-svcs:Invoke action',
      ),
    );
    assert.equal(lastRecord().authDeniedReason, 'Identity');
  });

  it('the account root passes the identity level', async () => {
    const r = await call('open', { path: '/x', creds: ROOT });
    assert.equal(r.status, 200, r.body);
  });

  const conditionCases = [
    { name: 'RequestHeader/x-block', o: { headers: { 'x-block': 'yes' } }, sid: 'BlockedHeader' },
    {
      name: 'RequestQueryString/mode (any value)',
      o: { query: { mode: ['x', 'debug'] } },
      sid: 'BlockedQuery',
    },
  ];
  for (const tc of conditionCases) {
    for (const unsigned of [false, true]) {
      it(`condition key ${tc.name} (${unsigned ? 'anonymous' : 'signed'}) → explicit deny`, async () => {
        const r = await call('open', { path: '/q', ...tc.o, unsigned });
        assert.equal(r.status, 403, r.body);
        assert.match(r.body, /with an explicit deny in a service-based policy/);
        assert.match(lastRecord().auth?.deniedBy ?? '', new RegExp(`Sid "${tc.sid}"`));
      });
    }
  }

  it('aws:ResourceTag reads the service tags (case-insensitive key)', async () => {
    const r = await call('open', { unsigned: true, path: '/tagged' });
    assert.equal(r.status, 200);
  });

  it('a bad signature is refused even where anonymous access is allowed', async () => {
    const s = await sign(host.open!, { path: '/x' });
    const auth = s.headers.authorization!.replace(
      /Signature=([0-9a-f])/,
      (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`,
    );
    const r = await send(ingress, port, {
      host: host.open,
      path: s.path,
      headers: { ...s.headers, authorization: auth },
    });
    assert.equal(r.status, 403);
    assert.match(
      r.body,
      /^InvalidSignatureException: The request signature we calculated does not match/,
    );
    assert.equal(lastRecord().resolvedUser, 'Unknown');
    assert.equal(lastRecord().authDeniedReason, 'Identity');
  });

  it('a request tampered after signing (path) is refused', async () => {
    const s = await sign(host.open!, { path: '/x' });
    const r = await send(ingress, port, { host: host.open, path: '/y', headers: s.headers });
    assert.equal(r.status, 403);
    assert.match(r.body, /^InvalidSignatureException/);
  });

  it('expired temporary credentials are refused', async () => {
    const r = await call('open', { path: '/x', creds: EXPIRED });
    assert.equal(r.status, 403);
    assert.equal(
      r.body,
      'ExpiredTokenException: The security token included in the request is expired\n',
    );
  });

  it('an unknown access key is refused', async () => {
    const r = await call('open', {
      path: '/x',
      creds: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' },
    });
    assert.equal(r.status, 403);
    assert.match(
      r.body,
      /^UnrecognizedClientException: The security token included in the request is invalid/,
    );
  });

  it('a session key without its token is refused', async () => {
    const { sessionToken: _t, ...noToken } = ORDER;
    const r = await call('open', { path: '/x', creds: noToken });
    assert.equal(r.status, 403);
    assert.match(r.body, /^UnrecognizedClientException/);
  });

  it('a signed payload gets a clear 400', async () => {
    const r = await call('open', {
      path: '/x',
      payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    assert.equal(r.status, 400);
    assert.match(r.body, /^InvalidRequestException: Payload signing is not supported/);
  });

  it('a signature for another service name is refused', async () => {
    const r = await call('open', { path: '/x', service: 'vpc-lattice' });
    assert.equal(r.status, 403);
    assert.match(
      r.body,
      /^InvalidSignatureException: Credential should be scoped to correct service/,
    );
  });

  it('path tricks: dot segments are refused, // is merged for rules, policy and target alike', async () => {
    for (const path of ['/stock/../admin', '/stock/%2e%2e/admin', '/admin%2fx']) {
      const r = await call('open', { unsigned: true, path });
      assert.equal(r.status, 400, path);
    }
    const merged = await call('inventory', { path: '//stock' });
    assert.equal(merged.status, 200, merged.body);
    assert.equal(echo(merged).url, '/stock');
    const admin = await call('open', { unsigned: true, path: '//admin' });
    assert.equal(admin.status, 403);
    const upper = await call('inventory', { path: '/STOCK' });
    assert.equal(upper.status, 403, 'paths are case-sensitive for policies');
  });

  it('compileAuth indexes every key and policy once per snapshot', () => {
    const auth = compileAuth(b.build());
    assert.equal(auth.identities.size, 4);
    assert.equal(auth.identities.get(ORDER.accessKeyId)?.policies.length, 1);
    assert.ok(auth.resources.get(inventory)?.policy);
    assert.equal(auth.vpcOwners.size, 1);
  });
});

describe('SigV4 auth gate, direct checks', () => {
  const b = new SnapshotBuilder();
  const vpc = b.vpc(['127.0.0.1']);
  const net = b.network('NONE');
  const svc = b.service({ authType: 'AWS_IAM' });
  b.associateVpc(net, vpc);
  b.associateService(net, svc);
  const host = b.hostOf(svc);
  b.s.accessKeys.push({
    accessKeyId: ROOT.accessKeyId,
    secretAccessKey: ROOT.secretAccessKey,
    status: 'Inactive',
    accountId: ACCOUNT,
    principalArn: `arn:aws:iam::${ACCOUNT}:root`,
    createdAt: NOW,
  });
  const snapshot = b.build();
  const binding = new ServiceBinding(
    snapshot.services[0]!,
    snapshot.serviceNetworks[0]!,
    new Map(),
  );
  const gate = createSigV4AuthGate({ region: 'us-west-2' });
  const prepared = gate.prepare!(snapshot);
  const request = (headers: Record<string, string>, url = '/x') =>
    ({
      method: 'GET',
      url,
      headers,
      socket: { remoteAddress: '127.0.0.1', localPort: 80 },
    }) as unknown as IncomingMessage;

  it('AWS_IAM service without an auth policy: everything denied (spec §2.1)', () => {
    const d = gate.check({ binding, sourceVpcId: vpc, request: request({ host }), prepared });
    assert.equal(d.allow, false);
    assert.equal(!d.allow && d.authDeniedReason, 'Service');
    assert.equal(!d.allow && d.detail?.deniedBy, 'Service: no policy attached');
  });

  it('an inactive key is refused as unrecognized', async () => {
    const s = await sign(host, { creds: ROOT, path: '/x' });
    const d = gate.check({ binding, sourceVpcId: vpc, request: request(s.headers), prepared });
    assert.equal(d.allow, false);
    assert.match(!d.allow ? d.message : '', /^UnrecognizedClientException/);
  });

  it('without a prepared index nothing behind AWS_IAM opens', () => {
    const d = gate.check({ binding, sourceVpcId: vpc, request: request({ host }) });
    assert.equal(d.allow, false);
  });

  it('a Bearer Authorization header is not a signature: anonymous', () => {
    const d = gate.check({
      binding,
      sourceVpcId: vpc,
      request: request({ host, authorization: 'Bearer abc' }),
      prepared,
    });
    assert.equal(!d.allow && d.resolvedUser, 'Anonymous');
  });
});

describe('identity headers round-trip through the map-header parser (spec §3.1, §3.3)', () => {
  it('principal, org, session name and tags with semicolons', () => {
    const principal = {
      arn: SESSION_ARN,
      accountId: ACCOUNT,
      type: 'AssumedRole' as const,
      roleArn: ROLE_ARN,
      sessionName: 'order-1',
      orgId: 'o-abc123',
      orgPaths: ['o-abc123/r-ab12/ou-ab12-11111111/'],
      tags: { team: 'orders', note: 'a;b=c' },
    };
    const identity = parseMapHeader(formatIdentityHeader(principal));
    assert.deepEqual(Object.fromEntries(identity), {
      Principal: SESSION_ARN,
      PrincipalOrgID: 'o-abc123',
      PrincipalOrgPath: 'o-abc123/r-ab12/ou-ab12-11111111/',
      SessionName: 'order-1',
      Type: 'AWS_IAM',
    });
    const tags = parseMapHeader(formatIdentityTagsHeader(principal));
    assert.equal(tags.get('principal'), SESSION_ARN);
    assert.equal(tags.get('principalorgid'), 'o-abc123');
    assert.equal(tags.get('note'), 'a;b=c');
    assert.equal(tags.get('team'), 'orders');
  });
});
