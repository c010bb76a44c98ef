/**
 * Lambda targets and local functions end to end (issue 6) against a real `trellis up`: the Lambda
 * API through `@aws-sdk/client-lambda`, functions as LAMBDA targets called through the data plane,
 * the execution role's credentials, and an external Invoke-API endpoint.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
} from '@aws-sdk/client-lambda';
import { CreateTargetGroupCommand, RegisterTargetsCommand } from '@aws-sdk/client-vpc-lattice';
import type { VPCLatticeClient } from '@aws-sdk/client-vpc-lattice';
import {
  createListener,
  createNetwork,
  createService,
  forwardTo,
  randomLoopback,
  randomPort,
  send,
  waitFor,
  type Network,
} from '../support/dataplane-fixtures.js';
import { defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';
import { buildZip } from './support/zip-writer.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const ingress = randomLoopback();
const port = randomPort();
let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let lambda: LambdaClient;
let net: Network;
let external: Server;
const externalCalls: { url: string; authorization: string; body: string }[] = [];

function text(payload: Uint8Array | undefined): string {
  return Buffer.from(payload ?? new Uint8Array()).toString('utf8');
}

async function localFunction(
  handler: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const out = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: uniqueName('fn'),
      Runtime: 'nodejs20.x',
      Handler: handler,
      Role: undefined as unknown as string,
      Code: { S3Bucket: 'trellis-local', S3Key: FIXTURES },
      ...extra,
    }),
  );
  return out.FunctionArn!;
}

/** A service whose listener forwards to a LAMBDA group targeting `functionArn`. */
async function lambdaService(
  functionArn: string,
  version: 'V1' | 'V2',
): Promise<{ host: string; serviceArn: string; tgArn: string }> {
  const svc = await createService(lattice, net.id);
  const tg = await lattice.send(
    new CreateTargetGroupCommand({
      name: uniqueName('fn-tg'),
      type: 'LAMBDA',
      config: { lambdaEventStructureVersion: version },
    }),
  );
  const reg = await lattice.send(
    new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets: [{ id: functionArn }] }),
  );
  assert.deepEqual(reg.unsuccessful ?? [], []);
  await createListener(lattice, svc.id, port, forwardTo(tg.id!));
  await waitFor(
    async () => {
      const r = await send(ingress, port, { host: svc.dnsName }).catch(() => undefined);
      return r !== undefined && r.status !== 404;
    },
    { message: 'the service serves' },
  );
  return { host: svc.dnsName, serviceArn: svc.arn, tgArn: tg.arn! };
}

before(async () => {
  external = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      externalCalls.push({
        url: req.url ?? '',
        authorization: req.headers.authorization ?? '',
        body: Buffer.concat(chunks).toString(),
      });
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) return res.writeHead(404).end('{"message":"not found"}');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          statusCode: 200,
          headers: { 'x-from': 'external' },
          body: `external:${m[1]}`,
          isBase64Encoded: false,
        }),
      );
    });
  });
  await new Promise<void>((r) => external.listen(0, '127.0.0.1', r));
  const extPort = (external.address() as AddressInfo).port;
  proc = await startTrellis({
    args: ['--dataplane-host', ingress],
    env: {
      TRELLIS_STORE_SYNCHRONOUS: 'NORMAL',
      TRELLIS_FUNCTION_ENDPOINTS: `ext-fn=http://127.0.0.1:${extPort}`,
    },
  });
  lattice = proc.lattice();
  lambda = new LambdaClient({
    endpoint: proc.endpoint,
    region: proc.region,
    credentials: proc.credentials,
    maxAttempts: 1,
  });
  net = await createNetwork(lattice, defaultVpcId(proc.accountId));
});

after(async () => {
  lattice?.destroy();
  lambda?.destroy();
  await proc?.stop();
  await new Promise<void>((r) => external.close(() => r()));
});

describe('the Lambda API through @aws-sdk/client-lambda', () => {
  it('creates a function from a zip, invokes it, lists, gets and deletes it', async () => {
    const name = uniqueName('zip');
    const zip = buildZip({
      'index.mjs':
        'export const handler = async (e, ctx) => ({ hello: e.name, fn: ctx.functionName });',
    });
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: undefined as unknown as string,
        Code: { ZipFile: zip },
        Timeout: 5,
        MemorySize: 256,
      }),
    );
    assert.equal(created.FunctionName, name);
    assert.match(
      created.FunctionArn!,
      new RegExp(`^arn:aws:lambda:${proc.region}:${proc.accountId}:function:${name}$`),
    );
    assert.equal(created.Timeout, 5);
    assert.equal(created.MemorySize, 256);

    const out = await lambda.send(
      new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{"name":"trellis"}') }),
    );
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(JSON.parse(text(out.Payload)), { hello: 'trellis', fn: name });

    const got = await lambda.send(new GetFunctionCommand({ FunctionName: created.FunctionArn }));
    assert.equal(got.Configuration?.Handler, 'index.handler');
    const list = await lambda.send(new ListFunctionsCommand({}));
    assert.ok(list.Functions?.some((f) => f.FunctionName === name));

    await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
    await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: name })), {
      name: 'ResourceNotFoundException',
    });
  });

  it('a function error answers 200 with X-Amz-Function-Error: Unhandled and the error payload', async () => {
    const arn = await localFunction('throws.handler');
    const out = await lambda.send(new InvokeCommand({ FunctionName: arn }));
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    const err = JSON.parse(text(out.Payload)) as { errorType: string; errorMessage: string };
    assert.equal(err.errorType, 'RangeError');
    assert.equal(err.errorMessage, 'out of stock');
  });

  it('a module that fails to load is refused at create time with the loader error', async () => {
    await assert.rejects(
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: uniqueName('broken'),
          Runtime: 'nodejs20.x',
          Handler: 'index.handler',
          Role: undefined as unknown as string,
          Code: {
            ZipFile: buildZip({ 'index.mjs': 'export const handler = async () => { return {; };' }),
          },
        }),
      ),
      (err: Error) =>
        err.name === 'InvalidParameterValueException' && /SyntaxError/.test(err.message),
    );
  });

  it('the execution role: the handler calls STS with the role credentials from its environment', async () => {
    const iam = new IAMClient({
      endpoint: proc.endpoint,
      region: proc.region,
      credentials: proc.credentials,
      maxAttempts: 1,
    });
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: uniqueName('order-fn'),
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'lambda.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
    iam.destroy();
    const name = uniqueName('whoami');
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Handler: 'whoami.handler',
        Role: role.Role!.Arn!,
        Code: { S3Bucket: 'trellis-local', S3Key: FIXTURES },
        Timeout: 20,
      }),
    );
    const out = await lambda.send(new InvokeCommand({ FunctionName: name }));
    assert.equal(out.FunctionError, undefined, text(out.Payload));
    const body = JSON.parse((JSON.parse(text(out.Payload)) as { body: string }).body) as {
      arn: string;
    };
    assert.equal(
      body.arn,
      `arn:aws:sts::${proc.accountId}:assumed-role/${role.Role!.RoleName}/${name}`,
    );
  });

  it('an external endpoint answers Invoke for the function the setting maps', async () => {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'ext-fn', Payload: Buffer.from('{"a":1}') }),
    );
    assert.equal(out.StatusCode, 200);
    assert.equal((JSON.parse(text(out.Payload)) as { body: string }).body, 'external:ext-fn');
    const call = externalCalls.at(-1)!;
    assert.equal(call.body, '{"a":1}');
    assert.match(
      call.authorization,
      /^AWS4-HMAC-SHA256 Credential=\w+\/\d{8}\/us-east-1\/lambda\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/,
    );
  });
});

describe('functions as LAMBDA targets through the data plane (spec §3.3)', () => {
  it('V2: the event carries the request and requestContext ARNs; the response comes back', async () => {
    const arn = await localFunction('echo-event.handler');
    const svc = await lambdaService(arn, 'V2');
    const r = await send(ingress, port, {
      host: svc.host,
      method: 'POST',
      path: '/orders?item=a&item=b',
      headers: { 'content-type': 'application/json', 'x-amzn-requestid': 'req-e2e' },
      body: '{"order":7}',
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['x-amzn-requestid'], 'req-e2e');
    const e = JSON.parse(r.body) as Record<string, unknown> & {
      requestContext: Record<string, unknown>;
    };
    assert.equal(e.version, '2.0');
    assert.equal(e.path, '/orders?item=a&item=b');
    assert.equal(e.method, 'POST');
    assert.deepEqual(e.queryStringParameters, { item: ['a', 'b'] });
    assert.equal(e.body, '{"order":7}');
    assert.equal(e.isBase64Encoded, false);
    assert.equal(e.requestContext.serviceArn, svc.serviceArn);
    assert.equal(e.requestContext.serviceNetworkArn, net.arn);
    assert.equal(e.requestContext.targetGroupArn, svc.tgArn);
    assert.equal(e.requestContext.region, proc.region);
    assert.deepEqual(e.requestContext.identity, {
      sourceVpcArn: `arn:aws:ec2:${proc.region}:${proc.accountId}:vpc/${defaultVpcId(proc.accountId)}`,
    });
    assert.match(e.requestContext.timeEpoch as string, /^\d{16}$/);
  });

  it('V1: snake_case event; binary bodies both ways', async () => {
    const arn = await localFunction('echo-event.handler');
    const svc = await lambdaService(arn, 'V1');
    const r = await send(ingress, port, { host: svc.host, path: '/a?x=1&x=2' });
    const e = JSON.parse(r.body) as Record<string, unknown>;
    assert.equal(e.raw_path, '/a?x=1&x=2');
    assert.deepEqual(e.query_string_parameters, { x: '2' });
    const { request } = await import('node:http');
    const bytes = await new Promise<Buffer>((res, rej) => {
      const req = request(
        {
          host: ingress,
          port,
          method: 'PUT',
          path: '/',
          agent: false,
          headers: {
            host: svc.host,
            'x-want': 'binary',
            'content-type': 'application/octet-stream',
          },
        },
        (resp) => {
          const c: Buffer[] = [];
          resp.on('data', (d: Buffer) => c.push(d));
          resp.on('end', () => res(Buffer.concat(c)));
        },
      );
      req.on('error', rej);
      req.end(Buffer.from([0, 1, 2, 200]));
    });
    assert.deepEqual([...bytes], [0, 1, 2, 200, 255]);
  });

  it('a throwing function answers 502 and the proxy keeps serving; an external endpoint is a target', async () => {
    const bad = await lambdaService(await localFunction('throws.handler'), 'V2');
    assert.equal((await send(ingress, port, { host: bad.host })).status, 502);
    const ext = await lambdaService(
      `arn:aws:lambda:${proc.region}:${proc.accountId}:function:ext-fn`,
      'V1',
    );
    const r = await send(ingress, port, { host: ext.host, path: '/x' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'external:ext-fn');
    assert.equal(r.headers['x-from'], 'external');
    const event = JSON.parse(externalCalls.at(-1)!.body) as { raw_path: string };
    assert.equal(event.raw_path, '/x');
  });
});
