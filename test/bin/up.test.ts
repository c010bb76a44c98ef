import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ListServiceNetworksCommand } from '@aws-sdk/client-vpc-lattice';
import { startTrellis } from '../support/trellis-process.js';

test('trellis up writes credentials and config, serves /health, and stops cleanly on SIGTERM', async () => {
  const proc = await startTrellis({ args: ['--no-dataplane'] });
  try {
    const health = await fetch(`${proc.endpoint}/health`);
    assert.equal(health.status, 200);

    const credentials = readFileSync(join(proc.dataDir, 'credentials'), 'utf8');
    assert.match(
      credentials,
      /^\[default\]\naws_access_key_id = AKIA[A-Z2-7]{16}\naws_secret_access_key = \S{40}\n$/,
    );
    assert.equal(
      statSync(join(proc.dataDir, 'credentials')).mode & 0o777,
      0o600,
      'secret file is private',
    );
    assert.equal(
      readFileSync(join(proc.dataDir, 'config'), 'utf8'),
      `[default]\nregion = ${proc.region}\n`,
    );
    assert.match(
      proc.output(),
      /Trellis is serving the VPC Lattice API at http:\/\/127\.0\.0\.1:\d+/,
    );

    // The written credentials work with the official SDK.
    const list = await proc.lattice().send(new ListServiceNetworksCommand({}));
    assert.deepEqual(list.items, []);
  } finally {
    const code = await proc.stop({ keepData: true });
    assert.equal(code, 0, `exit code after SIGTERM; output:\n${proc.output()}`);
    assert.equal(
      existsSync(join(proc.dataDir, 'runtime.json')),
      false,
      'runtime file removed on stop',
    );
  }
});

test('a second start on the same data dir keeps the same administrator key and data', async () => {
  const first = await startTrellis({ args: ['--no-dataplane'] });
  const key = first.credentials.accessKeyId;
  await first.stop({ keepData: true });
  const second = await startTrellis({ dataDir: first.dataDir, args: ['--no-dataplane'] });
  try {
    assert.equal(second.credentials.accessKeyId, key);
  } finally {
    await second.stop();
    rmSync(first.dataDir, { recursive: true, force: true });
  }
});

test('bad settings are refused with a message that says what to fix', async () => {
  await assert.rejects(startTrellis({ accountId: '12345' }), (err: Error) => {
    assert.match(err.message, /accountId.*12 digits/);
    assert.match(err.message, /--help/);
    return true;
  });
});
