/** `trellis certificate request|import|list|get|delete` against a real `trellis up`. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCliInProcess } from '../cli/support/run-cli-in-process.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';
import { customerCa } from './tls-fixtures.js';

let proc: TrellisProcess;
let scratch: string;

before(async () => {
  proc = await startTrellis({ args: ['--no-dataplane'] });
  scratch = mkdtempSync(join(tmpdir(), 'trellis-cert-cli-'));
});

after(async () => {
  await proc?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCliInProcess([...args, '--data-dir', proc.dataDir]);

test('request, import, list, get and delete certificates from the CLI', async () => {
  const requested = await cli(
    'certificate',
    'request',
    '--domain',
    'shop.example.com',
    '--san',
    '*.shop.example.com',
    '--output',
    'json',
  );
  assert.equal(requested.code, 0, requested.stderr);
  const issued = JSON.parse(requested.stdout) as {
    CertificateArn: string;
    Type: string;
    SubjectAlternativeNames: string[];
  };
  assert.equal(issued.Type, 'PRIVATE');
  assert.deepEqual(issued.SubjectAlternativeNames, ['shop.example.com', '*.shop.example.com']);

  const c = customerCa().issue(['imported.example.com']);
  writeFileSync(join(scratch, 'cert.pem'), c.certificatePem);
  writeFileSync(join(scratch, 'key.pem'), c.privateKeyPem);
  const imported = await cli(
    'certificate',
    'import',
    '--certificate',
    join(scratch, 'cert.pem'),
    '--private-key',
    join(scratch, 'key.pem'),
    '--output',
    'json',
  );
  assert.equal(imported.code, 0, imported.stderr);
  const arn = (JSON.parse(imported.stdout) as { CertificateArn: string }).CertificateArn;

  const listed = await cli('certificate', 'list');
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /shop\.example\.com/);
  assert.match(listed.stdout, /imported\.example\.com/);
  assert.ok(!listed.stdout.includes('PRIVATE KEY'));

  const bad = await cli(
    'certificate',
    'import',
    '--certificate',
    join(scratch, 'key.pem'),
    '--private-key',
    join(scratch, 'key.pem'),
  );
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /not a PEM-encoded X\.509 certificate/);

  assert.equal((await cli('certificate', 'delete', arn)).code, 0);
  const gone = await cli('certificate', 'get', arn);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /Could not find certificate/);
});
