import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveClientConfig, resolveOutputFormat } from '../../src/cli/client-config.js';
import { CliFailure } from '../../src/cli/output.js';
import { cliEnvironment } from '../../src/config/cli-settings.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A data dir as a running `trellis up` leaves it. */
function dataDir(runtime?: object, credentials = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-cli-config-'));
  dirs.push(dir);
  if (runtime) writeFileSync(join(dir, 'runtime.json'), JSON.stringify(runtime));
  if (credentials) {
    writeFileSync(
      join(dir, 'credentials'),
      '[default]\naws_access_key_id = AKIATRELLISLOCAL0001\naws_secret_access_key = local-secret\n',
    );
    writeFileSync(join(dir, 'config'), '[default]\nregion = eu-west-1\n');
  }
  return dir;
}

const RUNTIME = { apiEndpoint: 'http://127.0.0.1:41234', pid: 1, region: 'eu-west-1' };

describe('cliEnvironment', () => {
  it('reads the client variables and ignores blank ones', () => {
    const env = cliEnvironment({
      TRELLIS_ENDPOINT: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL: ' ',
      AWS_DEFAULT_REGION: 'ap-south-1',
      TRELLIS_DATA_DIR: '/d',
      TRELLIS_OUTPUT: 'json',
    });
    assert.equal(env.trellisEndpoint, 'http://127.0.0.1:1');
    assert.equal(env.awsEndpointUrl, undefined);
    assert.equal(env.region, 'ap-south-1');
    assert.equal(env.dataDir, '/d');
    assert.equal(env.output, 'json');
    assert.equal(env.awsCredentialsConfigured, false);
  });

  it('prefers the service-specific endpoint variable and AWS_REGION', () => {
    const env = cliEnvironment({
      AWS_ENDPOINT_URL: 'http://a',
      AWS_ENDPOINT_URL_VPC_LATTICE: 'http://b',
      AWS_REGION: 'us-west-2',
      AWS_DEFAULT_REGION: 'ap-south-1',
    });
    assert.equal(env.awsEndpointUrl, 'http://b');
    assert.equal(env.region, 'us-west-2');
  });

  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_PROFILE',
    'AWS_SHARED_CREDENTIALS_FILE',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  ]) {
    it(`${name} means AWS credentials are configured`, () => {
      assert.equal(cliEnvironment({ [name]: 'x' }).awsCredentialsConfigured, true);
    });
  }
});

describe('resolveClientConfig endpoint', () => {
  const dir = dataDir(RUNTIME);
  const cases: {
    name: string;
    flag?: string;
    env: Record<string, string>;
    endpoint: string;
    source: string;
  }[] = [
    { name: 'runtime.json', env: {}, endpoint: RUNTIME.apiEndpoint, source: 'runtime.json' },
    {
      name: 'AWS_ENDPOINT_URL over runtime.json',
      env: { AWS_ENDPOINT_URL: 'http://127.0.0.2:2' },
      endpoint: 'http://127.0.0.2:2',
      source: 'AWS_ENDPOINT_URL',
    },
    {
      name: 'TRELLIS_ENDPOINT over AWS_ENDPOINT_URL',
      env: { AWS_ENDPOINT_URL: 'http://127.0.0.2:2', TRELLIS_ENDPOINT: 'http://127.0.0.3:3/' },
      endpoint: 'http://127.0.0.3:3',
      source: 'TRELLIS_ENDPOINT',
    },
    {
      name: '--endpoint over everything',
      flag: 'https://trellis.example:8443',
      env: { TRELLIS_ENDPOINT: 'http://127.0.0.3:3' },
      endpoint: 'https://trellis.example:8443',
      source: '--endpoint',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const config = resolveClientConfig({ dataDir: dir, endpoint: c.flag }, cliEnvironment(c.env));
      assert.equal(config.endpoint, c.endpoint);
      assert.equal(config.endpointSource, c.source);
    });
  }

  it('finds the data dir through TRELLIS_DATA_DIR', () => {
    const config = resolveClientConfig({}, cliEnvironment({ TRELLIS_DATA_DIR: dir }));
    assert.equal(config.endpoint, RUNTIME.apiEndpoint);
    assert.equal(config.dataDir, dir);
  });

  it('says how to start Trellis when no endpoint is found', () => {
    const empty = dataDir(undefined, false);
    assert.throws(
      () => resolveClientConfig({ dataDir: empty }, cliEnvironment({})),
      (err: unknown) =>
        err instanceof CliFailure &&
        err.exitCode === 1 &&
        /No Trellis endpoint found/.test(err.message) &&
        /npx trellis up/.test(err.todo) &&
        /TRELLIS_ENDPOINT/.test(err.todo),
    );
  });

  it('rejects an endpoint that is not an http(s) URL as a usage error', () => {
    for (const endpoint of ['not a url', 'ftp://127.0.0.1:21']) {
      assert.throws(
        () => resolveClientConfig({ dataDir: dir, endpoint }, cliEnvironment({})),
        (err: unknown) => err instanceof CliFailure && err.exitCode === 2,
      );
    }
  });
});

describe('resolveClientConfig region and credentials', () => {
  it('takes the region from --region, then AWS_REGION, then runtime.json, then us-east-1', () => {
    const dir = dataDir(RUNTIME);
    const env = cliEnvironment({ AWS_REGION: 'us-west-2' });
    assert.equal(
      resolveClientConfig({ dataDir: dir, region: 'ca-central-1' }, env).region,
      'ca-central-1',
    );
    assert.equal(resolveClientConfig({ dataDir: dir }, env).region, 'us-west-2');
    assert.equal(resolveClientConfig({ dataDir: dir }, cliEnvironment({})).region, 'eu-west-1');
    const bare = dataDir({ apiEndpoint: 'http://127.0.0.1:1' });
    assert.equal(resolveClientConfig({ dataDir: bare }, cliEnvironment({})).region, 'us-east-1');
  });

  it('uses <data-dir>/credentials when the environment names no AWS credentials', async () => {
    const dir = dataDir(RUNTIME);
    const config = resolveClientConfig({ dataDir: dir }, cliEnvironment({}));
    assert.equal(config.credentialsSource, 'data-dir');
    const creds = await config.credentials();
    assert.equal(creds.accessKeyId, 'AKIATRELLISLOCAL0001');
    assert.equal(creds.secretAccessKey, 'local-secret');
  });

  it('uses the standard AWS chain when the environment names credentials', () => {
    const dir = dataDir(RUNTIME);
    const env = cliEnvironment({ AWS_ACCESS_KEY_ID: 'AKIAFROMENV', AWS_SECRET_ACCESS_KEY: 's' });
    assert.equal(resolveClientConfig({ dataDir: dir }, env).credentialsSource, 'aws-chain');
    assert.equal(
      resolveClientConfig({ dataDir: dir, profile: 'other' }, cliEnvironment({})).credentialsSource,
      'aws-chain',
    );
  });

  it('falls back to the AWS chain when the data dir has no credentials file', () => {
    const dir = dataDir(undefined, false);
    const config = resolveClientConfig(
      { dataDir: dir },
      cliEnvironment({ TRELLIS_ENDPOINT: 'http://127.0.0.1:1' }),
    );
    assert.equal(config.credentialsSource, 'aws-chain');
  });
});

describe('resolveOutputFormat', () => {
  it('takes --output, then TRELLIS_OUTPUT, then table', () => {
    assert.equal(
      resolveOutputFormat({ output: 'json' }, cliEnvironment({ TRELLIS_OUTPUT: 'table' })),
      'json',
    );
    assert.equal(resolveOutputFormat({}, cliEnvironment({ TRELLIS_OUTPUT: 'json' })), 'json');
    assert.equal(resolveOutputFormat({}, cliEnvironment({})), 'table');
  });

  it('rejects an unknown TRELLIS_OUTPUT as a usage error', () => {
    assert.throws(
      () => resolveOutputFormat({}, cliEnvironment({ TRELLIS_OUTPUT: 'yaml' })),
      (err: unknown) => err instanceof CliFailure && err.exitCode === 2,
    );
  });
});
