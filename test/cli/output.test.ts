import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConflictException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ValidationException,
} from '@aws-sdk/client-vpc-lattice';
import {
  CliFailure,
  describeFailure,
  renderList,
  renderResource,
  type Column,
} from '../../src/cli/output.js';

const COLUMNS: Column<{ id: string; name: string; createdAt?: Date }>[] = [
  { header: 'ID', value: (r) => r.id },
  { header: 'NAME', value: (r) => r.name },
  { header: 'CREATED', value: (r) => r.createdAt },
];

const ITEMS = [
  { id: 'sn-0aaaaaaaaaaaaaaaa', name: 'alpha', createdAt: new Date('2026-01-02T03:04:05.000Z') },
  { id: 'sn-0bbbbbbbbbbbbbbbb', name: 'beta-network' },
];

const CONTEXT = { command: 'trellis service-network delete', endpoint: 'http://127.0.0.1:9' };

describe('renderList', () => {
  it('draws a table with the headers and every item', () => {
    const text = renderList(ITEMS, COLUMNS, 'table');
    for (const s of [
      'ID',
      'NAME',
      'CREATED',
      'alpha',
      'beta-network',
      '2026-01-02T03:04:05.000Z',
    ]) {
      assert.ok(text.includes(s), `table lacks ${s}:\n${text}`);
    }
    // No colour codes: tables are read by people and by grep.
    assert.ok(!text.includes('\u001b['));
  });

  it('prints a JSON array of whole items, dates as ISO strings', () => {
    const parsed = JSON.parse(renderList(ITEMS, COLUMNS, 'json')) as Record<string, unknown>[];
    assert.deepEqual(parsed, [
      { id: 'sn-0aaaaaaaaaaaaaaaa', name: 'alpha', createdAt: '2026-01-02T03:04:05.000Z' },
      { id: 'sn-0bbbbbbbbbbbbbbbb', name: 'beta-network' },
    ]);
    assert.deepEqual(JSON.parse(renderList([], COLUMNS, 'json')), []);
  });
});

describe('renderResource', () => {
  const resource = {
    $metadata: { httpStatusCode: 201 },
    id: 'svc-0aaaaaaaaaaaaaaaa',
    name: 'checkout',
    dnsEntry: { domainName: 'checkout.example', hostedZoneId: 'Z1' },
    certificateArn: undefined,
  };

  it('prints aligned key/value lines with nested members as JSON', () => {
    const text = renderResource(resource, 'table');
    assert.match(text, /^id +svc-0aaaaaaaaaaaaaaaa$/m);
    assert.match(text, /^dnsEntry +\{"domainName":"checkout.example","hostedZoneId":"Z1"\}$/m);
    assert.ok(!text.includes('$metadata'));
    assert.ok(!text.includes('certificateArn'));
  });

  it('prints the wire shape as JSON without $metadata', () => {
    assert.deepEqual(JSON.parse(renderResource(resource, 'json')), {
      id: 'svc-0aaaaaaaaaaaaaaaa',
      name: 'checkout',
      dnsEntry: { domainName: 'checkout.example', hostedZoneId: 'Z1' },
    });
  });
});

describe('describeFailure', () => {
  const meta = { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 };
  const cases: { name: string; error: unknown; wrong: RegExp[]; todo: RegExp }[] = [
    {
      name: 'ValidationException lists every field',
      error: new ValidationException({
        $metadata: meta,
        message: '2 validation errors',
        reason: 'fieldValidationFailed',
        fieldList: [
          { name: 'name', message: 'must be 3–63 characters' },
          { name: 'authType', message: 'must be NONE or AWS_IAM' },
        ],
      }),
      wrong: [
        /ValidationException: 2 validation errors/,
        /name: must be 3–63/,
        /authType: must be NONE/,
      ],
      todo: /--help/,
    },
    {
      name: 'ConflictException says to delete dependents first',
      error: new ConflictException({
        $metadata: { ...meta, httpStatusCode: 409 },
        message: 'ServiceNetwork sn-0aaaaaaaaaaaaaaaa has VPC(s) associated',
        resourceId: 'sn-0aaaaaaaaaaaaaaaa',
        resourceType: 'SERVICE_NETWORK',
      }),
      wrong: [
        /ConflictException: ServiceNetwork sn-0a+ has VPC/,
        /resource: SERVICE_NETWORK sn-0a+/,
      ],
      todo: /delete the dependent associations first/,
    },
    {
      name: 'ServiceQuotaExceededException names the TRELLIS_QUOTA variable',
      error: new ServiceQuotaExceededException({
        $metadata: { ...meta, httpStatusCode: 402 },
        message: 'quota reached',
        resourceType: 'SERVICE_NETWORK',
        serviceCode: 'vpc-lattice',
        quotaCode: 'L-9CAD07FB',
      }),
      wrong: [/ServiceQuotaExceededException: quota reached/],
      todo: /TRELLIS_QUOTA_SERVICENETWORKSPERREGION=<n> \(default 50\)/,
    },
    {
      name: 'ResourceNotFoundException points at list',
      error: new ResourceNotFoundException({
        $metadata: { ...meta, httpStatusCode: 404 },
        message: 'not found',
        resourceId: 'sn-0',
        resourceType: 'SERVICE_NETWORK',
      }),
      wrong: [/ResourceNotFoundException: not found/],
      todo: /list/,
    },
    {
      name: 'a refused connection asks whether trellis up runs',
      error: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
      wrong: [/cannot reach http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/],
      todo: /Is `trellis up` running\?/,
    },
    {
      name: 'a refused connection inside an AggregateError or fetch cause',
      error: new TypeError('fetch failed', {
        cause: new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]),
      }),
      wrong: [/ECONNREFUSED/],
      todo: /trellis up/,
    },
    {
      name: 'an unknown access key says which credentials to use',
      error: Object.assign(new Error('The security token included in the request is invalid.'), {
        name: 'UnrecognizedClientException',
        $metadata: { httpStatusCode: 403 },
      }),
      wrong: [/UnrecognizedClientException/],
      todo: /credentials/,
    },
    {
      name: 'missing credentials',
      error: Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      wrong: [/CredentialsProviderError/],
      todo: /AWS_ACCESS_KEY_ID/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const failure = describeFailure(c.error, CONTEXT);
      assert.equal(failure.exitCode, 1);
      const wrong = failure.wrong.join('\n');
      assert.ok(wrong.startsWith('trellis service-network delete: '), wrong);
      for (const re of c.wrong) assert.match(wrong, re);
      assert.match(failure.todo, c.todo);
      assert.match(failure.message, /What to do: /);
    });
  }

  it('keeps a CliFailure and prefixes the command once', () => {
    const original = new CliFailure(['No Trellis endpoint found.'], 'Start one.', 1);
    const f = describeFailure(original, CONTEXT);
    assert.equal(f.wrong[0], 'trellis service-network delete: No Trellis endpoint found.');
    assert.equal(describeFailure(f, CONTEXT).wrong[0], f.wrong[0]);
  });
});
