import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer, connect } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { integer, oid, time, tlv } from './der-writer.js';
import {
  createRootCertificate,
  loadCertificateAuthority,
  selfSignedCertificate,
} from './certificate-issuer.js';
import { createKeyCipher } from './key-cipher.js';

test('DER primitives encode as X.690 says', () => {
  const table: [Buffer, string][] = [
    [integer(0), '020100'],
    [integer(127), '02017f'],
    [integer(128), '02020080'],
    [integer(65535), '020300ffff'],
    [oid('1.2.840.113549.1.1.11'), '06092a864886f70d01010b'],
    [oid('2.5.29.17'), '0603551d11'],
    [time(new Date('2030-01-02T03:04:05Z')), '170d3330303130323033303430355a'],
    [time(new Date('2050-01-02T03:04:05Z')), '180f32303530303130323033303430355a'],
  ];
  for (const [got, hex] of table) assert.equal(got.toString('hex'), hex);
});

test('DER lengths: short and long forms round-trip (fast-check)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 70_000 }), (n) => {
      const out = tlv(0x04, Buffer.alloc(n));
      let len: number;
      let head: number;
      if (out[1]! < 0x80) [len, head] = [out[1]!, 2];
      else {
        const k = out[1]! & 0x7f;
        len = 0;
        for (let i = 0; i < k; i++) len = len * 256 + out[2 + i]!;
        head = 2 + k;
      }
      return len === n && out.length === head + n;
    }),
    { numRuns: 200 },
  );
});

test('the local CA issues certificates Node parses, verifies and serves over TLS', async () => {
  const root = createRootCertificate('Test Root');
  const ca = loadCertificateAuthority(root);
  const rootX = new X509Certificate(root.certificatePem);
  assert.ok(rootX.ca);
  for (const keyAlgorithm of ['RSA_2048', 'EC_prime256v1'] as const) {
    const leaf = ca.issue({
      dnsNames: ['*.svc.example.com', 'svc.example.com'],
      ipAddresses: ['127.0.0.1', '::1'],
      keyAlgorithm,
    });
    const x = new X509Certificate(leaf.certificatePem);
    assert.equal(x.ca, false);
    assert.ok(x.checkIssued(rootX) && x.verify(rootX.publicKey));
    assert.equal(
      x.subjectAltName,
      'DNS:*.svc.example.com, DNS:svc.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    assert.equal(x.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), true);
    const server = createServer({ key: leaf.privateKeyPem, cert: leaf.certificatePem }, (s) =>
      s.end('ok'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const text = await new Promise<string>((resolve, reject) => {
      const c = connect({
        host: '127.0.0.1',
        port,
        servername: 'a.svc.example.com',
        ca: root.certificatePem,
      });
      let data = '';
      c.on('data', (d: Buffer) => (data += d.toString()));
      c.on('end', () => resolve(data));
      c.on('error', reject);
    });
    assert.equal(text, 'ok');
    server.close();
  }
});

test('self-signed leaves are not CAs and chain to nothing', () => {
  const s = selfSignedCertificate({ dnsNames: ['self.example.com'] });
  const x = new X509Certificate(s.certificatePem);
  assert.equal(x.ca, false);
  assert.ok(x.verify(x.publicKey));
});

test('sealed keys open only under their key and detect tampering', () => {
  const a = createKeyCipher(Buffer.alloc(32, 1));
  const b = createKeyCipher(Buffer.alloc(32, 2));
  const sealed = a.seal('-----BEGIN PRIVATE KEY-----');
  assert.equal(a.open(sealed), '-----BEGIN PRIVATE KEY-----');
  assert.ok(!sealed.includes('PRIVATE'));
  assert.throws(() => b.open(sealed));
  assert.throws(() => a.open(sealed.slice(0, -2) + 'AA'));
  assert.notEqual(a.seal('x'), a.seal('x'));
});
