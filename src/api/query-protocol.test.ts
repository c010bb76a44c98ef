import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import {
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  NoSuchEntityException,
  UntagRoleCommand,
} from '@aws-sdk/client-iam';
import fc from 'fast-check';
import { AccessDeniedException, AuthenticationError } from '../errors/aws-errors.js';
import { IamError } from '../errors/iam-errors.js';
import {
  IAM_NAMESPACE,
  QueryParams,
  queryErrorOf,
  renderQueryError,
  renderQueryResponse,
  type XmlObject,
} from './query-protocol.js';

/**
 * An IAM client whose transport hands the serialised request to `onRequest` and answers with
 * `respond()`: the official serializer and deserializer, no network.
 */
function offlineIam(
  onRequest: (body: string) => void,
  respond: () => { status: number; body: string },
) {
  return new IAMClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: { body?: unknown }) {
        onRequest(String(request.body ?? ''));
        const r = respond();
        return {
          response: {
            statusCode: r.status,
            headers: { 'content-type': 'text/xml' },
            body: Readable.from([Buffer.from(r.body)]),
          },
        };
      },
    } as never,
  });
}

const EMPTY_ROLE_RESPONSE = () => ({
  status: 200,
  body: renderQueryResponse(
    'CreateRole',
    IAM_NAMESPACE,
    {
      Role: {
        Path: '/',
        RoleName: 'r',
        RoleId: 'AROAEXAMPLE',
        Arn: 'arn:aws:iam::111122223333:role/r',
        CreateDate: '2024-01-01T00:00:00.000Z',
      },
    },
    'req-1',
  ),
});

/** Printable text IAM accepts in names, descriptions and tag values (no XML-illegal controls). */
const printable = fc.string({
  unit: fc.constantFrom(...' abcXYZ09_.:/=+-@<>&"\'%é漢\t'.split('')),
});

describe('QueryParams: what the official IAM serializer sends parses back', () => {
  it('Tags.member.N.Key/Value and TagKeys.member.N survive any values (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ Key: printable.filter((s) => s.length > 0), Value: printable }), {
          minLength: 1,
          maxLength: 12,
        }),
        printable,
        async (tags, description) => {
          let body = '';
          const client = offlineIam((b) => (body = b), EMPTY_ROLE_RESPONSE);
          await client.send(
            new CreateRoleCommand({
              RoleName: 'r',
              AssumeRolePolicyDocument: '{"a":"b & c"}',
              Description: description,
              Tags: tags,
            }),
          );
          const p = QueryParams.parse(body);
          assert.equal(p.action, 'CreateRole');
          assert.equal(p.version, '2010-05-08');
          assert.equal(p.required('AssumeRolePolicyDocument'), '{"a":"b & c"}');
          assert.equal(p.optional('Description'), description);
          assert.deepEqual(
            p.tagList('Tags'),
            tags.map((t) => ({ Key: t.Key, Value: t.Value })),
          );

          await client.send(
            new UntagRoleCommand({ RoleName: 'r', TagKeys: tags.map((t) => t.Key) }),
          );
          assert.deepEqual(
            QueryParams.parse(body).list('TagKeys'),
            tags.map((t) => t.Key),
          );
          client.destroy();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('lists are ordered by member index, numerically (member.10 after member.9)', () => {
    const record: Record<string, string> = {};
    for (let i = 12; i >= 1; i--) record[`PolicyNames.member.${i}`] = `p${i}`;
    assert.deepEqual(
      QueryParams.of(record).list('PolicyNames'),
      Array.from({ length: 12 }, (_, i) => `p${i + 1}`),
    );
  });

  const requiredCases = [
    { name: 'RoleName', member: 'roleName' },
    { name: 'AssumeRolePolicyDocument', member: 'assumeRolePolicyDocument' },
  ];
  for (const c of requiredCases) {
    it(`a missing ${c.name} is a ValidationError naming '${c.member}'`, () => {
      assert.throws(
        () => QueryParams.of({}).required(c.name),
        (e: unknown) =>
          e instanceof IamError &&
          e.code === 'ValidationError' &&
          e.message.includes(`Value null at '${c.member}'`),
      );
    });
  }

  it('integer members outside their range are a ValidationError', () => {
    assert.equal(QueryParams.of({ D: '900' }).integer('D', 900, 3600), 900);
    for (const v of ['899', '3601', 'abc', '1.5']) {
      assert.throws(() => QueryParams.of({ D: v }).integer('D', 900, 3600), IamError);
    }
  });
});

describe('XML responses: what the official IAM deserializer reads', () => {
  it('any printable text round-trips through element escaping (property)', async () => {
    await fc.assert(
      fc.asyncProperty(printable, printable, async (description, tagValue) => {
        const result: XmlObject = {
          Role: {
            Path: '/',
            RoleName: 'r',
            RoleId: 'AROAEXAMPLE',
            Arn: 'arn:aws:iam::111122223333:role/r',
            CreateDate: '2024-01-01T00:00:00.000Z',
            Description: description,
            MaxSessionDuration: 3600,
            Tags: [{ Key: 'k', Value: tagValue }],
          },
        };
        const client = offlineIam(
          () => undefined,
          () => ({
            status: 200,
            body: renderQueryResponse('GetRole', IAM_NAMESPACE, result, 'id'),
          }),
        );
        const out = await client.send(new GetRoleCommand({ RoleName: 'r' }));
        assert.equal(out.Role!.Description ?? '', description);
        assert.equal(out.Role!.Tags![0]!.Value ?? '', tagValue);
        assert.equal(out.Role!.MaxSessionDuration, 3600);
        assert.equal(out.Role!.CreateDate!.toISOString(), '2024-01-01T00:00:00.000Z');
        client.destroy();
      }),
      { numRuns: 60 },
    );
  });

  it('an ErrorResponse becomes the SDK exception class of its Code, with the message', async () => {
    const client = offlineIam(
      () => undefined,
      () => ({
        status: 404,
        body: renderQueryError(
          new IamError('NoSuchEntity', 'The role with name r cannot be found. <&>'),
          'req-9',
          IAM_NAMESPACE,
        ),
      }),
    );
    await assert.rejects(client.send(new GetRoleCommand({ RoleName: 'r' })), (e: unknown) => {
      assert.ok(e instanceof NoSuchEntityException);
      assert.equal(e.message, 'The role with name r cannot be found. <&>');
      assert.equal(e.$metadata.httpStatusCode, 404);
      return true;
    });
    client.destroy();
  });

  const errorMapping = [
    { err: new IamError('EntityAlreadyExists', 'x'), code: 'EntityAlreadyExists', status: 409 },
    {
      err: new IamError('MalformedPolicyDocument', 'x'),
      code: 'MalformedPolicyDocument',
      status: 400,
    },
    { err: new IamError('LimitExceeded', 'x'), code: 'LimitExceeded', status: 409 },
    { err: new AccessDeniedException('x'), code: 'AccessDenied', status: 403 },
    {
      err: new AuthenticationError('UnrecognizedClientException', 'x'),
      code: 'InvalidClientTokenId',
      status: 403,
    },
    {
      err: new AuthenticationError('InvalidSignatureException', 'x'),
      code: 'SignatureDoesNotMatch',
      status: 403,
    },
    {
      err: new AuthenticationError('ExpiredTokenException', 'x'),
      code: 'ExpiredToken',
      status: 403,
    },
  ];
  for (const c of errorMapping) {
    it(`${c.err.errorType} renders as <Code>${c.code}</Code> with HTTP ${c.status}`, () => {
      const q = queryErrorOf(c.err);
      assert.equal(q.code, c.code);
      assert.equal(q.status, c.status);
      assert.match(
        renderQueryError(c.err, 'r', IAM_NAMESPACE),
        new RegExp(`<Code>${c.code}</Code>`),
      );
    });
  }
});
