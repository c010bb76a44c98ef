import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { RequestRecord } from './request-record.js';

/** The TLS fields of the access log (spec §4.1: HTTPS only), read once per connection. */
class TlsFields {
  constructor(
    readonly serverNameIndication: string,
    readonly tlsVersion: string,
    /** OpenSSL name, as Lattice logs it (e.g. `ECDHE-RSA-AES128-GCM-SHA256`, `TLS_AES_128_GCM_SHA256`). */
    readonly sslCipher: string,
  ) {}
}

const FIELDS = Symbol('trellis.tlsFields');
type Marked = Socket & { [FIELDS]?: TlsFields; encrypted?: boolean };

/**
 * Copies the connection's SNI, protocol version and cipher into `record` when `socket` is a
 * terminated TLS connection (a no-op for plain sockets). The values are read from the TLS socket
 * on its first request and kept on it, so later requests of a keep-alive connection cost one
 * property read.
 */
export function stampTlsFields(record: RequestRecord, socket: Socket): void {
  const s = socket as Marked;
  let f = s[FIELDS];
  if (f === undefined) {
    if (s.encrypted !== true) return;
    const tls = socket as TLSSocket;
    const name = (tls as TLSSocket & { servername?: string | false }).servername;
    f = new TlsFields(
      typeof name === 'string' ? name : '',
      tls.getProtocol() ?? '',
      tls.getCipher()?.name ?? '',
    );
    s[FIELDS] = f;
  }
  record.serverNameIndication = f.serverNameIndication;
  record.tlsVersion = f.tlsVersion;
  record.sslCipher = f.sslCipher;
}
