import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { describe, it } from 'node:test';
import { HELLO_BAD, HELLO_INCOMPLETE, HELLO_NO_SNI, readClientHelloSni } from './client-hello.js';

/** The first bytes a real Node TLS client sends (its ClientHello), captured by a plain server. */
async function captureHello(servername: string | undefined): Promise<Buffer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<Buffer>((resolve) => {
      server.once('connection', (s) => {
        s.once('data', (chunk: Buffer) => {
          resolve(chunk);
          s.destroy();
        });
      });
      const c = connect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}) });
      c.on('error', () => undefined);
    });
  } finally {
    server.close();
  }
}

describe('ClientHello SNI reader (spec §7.1 TLS passthrough)', () => {
  it('reads the server name of a real ClientHello, lower-cased', async () => {
    const hello = await captureHello('Pay.Example.COM');
    assert.equal(readClientHelloSni(hello), 'pay.example.com');
  });

  it('asks for more bytes until the whole hello is there', async () => {
    const hello = await captureHello('pay.example.com');
    for (const n of [0, 1, 4, 5, 40, hello.length - 1])
      assert.equal(readClientHelloSni(hello.subarray(0, n)), HELLO_INCOMPLETE, `prefix ${n}`);
  });

  it('reads a hello split over two handshake records', async () => {
    const hello = await captureHello('split.example.com');
    const body = hello.subarray(5);
    const cut = 20;
    const record = (frag: Buffer): Buffer =>
      Buffer.concat([Buffer.from([0x16, 0x03, 0x01, frag.length >> 8, frag.length & 0xff]), frag]);
    const two = Buffer.concat([record(body.subarray(0, cut)), record(body.subarray(cut))]);
    assert.equal(readClientHelloSni(two), 'split.example.com');
  });

  it('a hello without SNI (IP address) and bytes that are not TLS', async () => {
    assert.equal(readClientHelloSni(await captureHello(undefined)), HELLO_NO_SNI);
    assert.equal(readClientHelloSni(Buffer.from('GET / HTTP/1.1\r\n\r\n')), HELLO_BAD);
    // A handshake record holding a ServerHello, not a ClientHello.
    assert.equal(
      readClientHelloSni(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00])),
      HELLO_BAD,
    );
    // A length field that runs past the message.
    const hello = await captureHello('pay.example.com');
    const broken = Buffer.from(hello);
    broken[5 + 4 + 34] = 0xff; // session id length
    assert.equal(readClientHelloSni(broken), HELLO_BAD);
  });
});
