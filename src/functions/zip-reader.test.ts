import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildZip } from '../../test/functions/support/zip-writer.js';
import { extractZip, readZip, ZipError } from './zip-reader.js';

test('reads stored and deflated entries back byte for byte', () => {
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.stringMatching(/^[a-z][a-z0-9/]{0,12}[a-z0-9]$/),
        fc.uint8Array({ maxLength: 2000 }),
      ),
      fc.boolean(),
      (files, store) => {
        const clean = Object.fromEntries(
          Object.entries(files).filter(
            ([k]) => !k.includes('//') && !Object.keys(files).some((o) => o.startsWith(k + '/')),
          ),
        );
        const zip = buildZip(
          Object.fromEntries(Object.entries(clean).map(([k, v]) => [k, Buffer.from(v)])),
          { store },
        );
        const got = readZip(zip);
        assert.deepEqual(
          Object.fromEntries(got.map((e) => [e.name, [...e.data]])),
          Object.fromEntries(Object.entries(clean).map(([k, v]) => [k, [...v]])),
        );
      },
    ),
    { numRuns: 50 },
  );
});

test('garbage never throws anything but ZipError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        readZip(Buffer.from(bytes));
      } catch (err) {
        assert.ok(err instanceof ZipError, String(err));
      }
    }),
  );
});

test('a truncated or mutated archive is refused with ZipError, never a crash', () => {
  const zip = buildZip({ 'index.js': 'export const handler = () => 1;'.repeat(20) });
  for (let cut = 0; cut < zip.length; cut += 7) {
    try {
      readZip(zip.subarray(0, cut));
    } catch (err) {
      assert.ok(err instanceof ZipError);
    }
  }
});

test('extractZip writes files in folders and refuses zip slip', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-zip-'));
  try {
    assert.equal(extractZip(buildZip({ 'a/b/c.js': 'x', 'd.txt': 'y' }), dir), 2);
    assert.equal(readFileSync(join(dir, 'a/b/c.js'), 'utf8'), 'x');
    assert.throws(() => extractZip(buildZip({ '../evil.js': 'x' }), dir), ZipError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
