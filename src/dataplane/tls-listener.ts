import { X509Certificate } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Http2Server } from 'node:http2';
import type { Socket } from 'node:net';
import {
  createSecureContext,
  createServer as createTlsServer,
  type SecureContext,
  type Server as TlsServer,
  type TLSSocket,
} from 'node:tls';
import { certificateCoversHost, type StoredCertificate } from '../model/certificate-types.js';
import type { Owned, Snapshot } from '../model/snapshot-types.js';
import type { CompiledSnapshot, ListenAddress } from './compile-snapshot.js';
import type { DataPlaneLogger } from './logger.js';
import type { TlsPassthrough } from './tls-passthrough.js';

/**
 * spec §7.1: TLS 1.2 cipher preference of Lattice HTTPS listeners, then the TLS 1.3 suites; server
 * order wins; not configurable.
 */
export const LATTICE_TLS12_CIPHERS = [
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-SHA',
  'AES128-GCM-SHA256',
  'AES128-SHA',
  'AES256-GCM-SHA384',
  'AES256-SHA',
];
export const LATTICE_TLS13_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
];
const CIPHERS = [...LATTICE_TLS13_CIPHERS, ...LATTICE_TLS12_CIPHERS].join(':');

/**
 * ALPN policy HTTP2Preferred (spec §7.1): `h2` first, then `http/1.1`; a client offering no ALPN
 * is served HTTP/1.1.
 */
export const ALPN_PROTOCOLS = ['h2', 'http/1.1'];

/** A certificate with its key in PEM form (the generated-name certificate). */
export interface PemCertificate {
  certificatePem: string;
  privateKeyPem: string;
  chainPem: string;
}

/**
 * What HTTPS listeners need from bin/. Snapshots carry certificates with their private keys
 * sealed (AES-256-GCM); the data plane gets only the function that opens them, so keys never
 * cross the store or the snapshot in the clear, and are decrypted once per certificate version.
 */
export interface DataPlaneTlsOptions {
  /** Opens a sealed private key (throws when it cannot). */
  openKey(sealed: string): string;
  /**
   * spec §7.1: the certificate Lattice serves for generated names, here one issued by the local
   * CA for `*.<label>.vpc-lattice-svcs.<region>.on.aws`.
   */
  generatedNameCertificate?: PemCertificate;
}

/** The per-snapshot SNI table: (ingress address, port, server name) → secure context. */
class SniTable {
  constructor(
    readonly compiled: CompiledSnapshot,
    /** Listener ids of HTTPS listeners. */
    readonly httpsListeners: ReadonlySet<string>,
    /** Lower-cased custom domain → certificate context (undefined: none that covers it). */
    readonly customDomains: ReadonlyMap<string, SecureContext | undefined>,
    readonly generated: { context: SecureContext; covers: (host: string) => boolean } | undefined,
  ) {}

  /** spec §7.1/§7.4: the context for `servername` on this listener, or undefined (refuse). */
  resolve(address: string, port: number, servername: string): SecureContext | undefined {
    const host = servername.toLowerCase();
    const binding = this.compiled.vpcsByAddress.get(address)?.hosts.get(host);
    const listener = binding?.listeners.get(port);
    if (listener === undefined || !this.httpsListeners.has(listener.id)) return undefined;
    if (this.customDomains.has(host)) return this.customDomains.get(host);
    return this.generated?.covers(host) ? this.generated.context : undefined;
  }
}

const baseOptions = {
  minVersion: 'TLSv1.2' as const,
  maxVersion: 'TLSv1.3' as const,
  ciphers: CIPHERS,
  honorCipherOrder: true,
};

/**
 * TLS termination for HTTPS listeners (spec §7.1): a `tls.Server` listens in place of the
 * listener's node:http server and hands each decrypted connection to that server's own
 * connection handler, so requests run the same pipeline as plain HTTP. The certificate is chosen
 * per handshake by SNI from the snapshot serving at that moment: a new `certificateArn` applies to
 * new handshakes while open connections keep theirs. Unknown or missing SNI → no certificate →
 * the handshake fails with an alert and the connection closes.
 */
export class TlsListeners {
  private table: SniTable | undefined;
  /** Contexts by certificate ARN + serial + sealed key, reused across snapshots. */
  private contexts = new Map<string, SecureContext>();
  private readonly generated: SniTable['generated'];
  /** TLS_PASSTHROUGH listeners (tls-passthrough.ts): they share TLS ports, routed by SNI first. */
  passthrough: TlsPassthrough | undefined;

  constructor(
    private readonly options: DataPlaneTlsOptions | undefined,
    private readonly logger: DataPlaneLogger,
  ) {
    const g = options?.generatedNameCertificate;
    if (g !== undefined) {
      const context = createSecureContext({
        ...baseOptions,
        key: g.privateKeyPem,
        cert: g.certificatePem + g.chainPem,
      });
      const names = wildcardNames(g.certificatePem);
      this.generated = {
        context,
        covers: (host) =>
          certificateCoversHost({ domainName: '', subjectAlternativeNames: names }, host),
      };
    }
  }

  /**
   * Builds the SNI table of a compiled snapshot and marks the listen addresses that serve TLS
   * (a port with an HTTPS listener of a reachable service; HTTP listeners sharing it lose).
   */
  apply(snapshot: Snapshot, compiled: CompiledSnapshot): ListenAddress[] {
    const passthrough = this.passthrough;
    passthrough?.apply(snapshot, compiled);
    const https = new Set(
      snapshot.listeners.filter((l) => l.protocol === 'HTTPS').map((l) => l.id),
    );
    const certificates = new Map((snapshot.certificates ?? []).map((c) => [c.certificateArn, c]));
    const next = new Map<string, SecureContext>();
    const contextFor = (
      arn: string | undefined,
    ): { ctx: SecureContext; cert: Owned<StoredCertificate> } | undefined => {
      if (arn === undefined) return undefined;
      const cert = certificates.get(arn);
      if (cert === undefined) return undefined;
      const key = `${arn}|${cert.serial}|${cert.sealedPrivateKey}`;
      let ctx = next.get(key) ?? this.contexts.get(key);
      if (ctx === undefined) {
        try {
          ctx = createSecureContext({
            ...baseOptions,
            key: this.options?.openKey(cert.sealedPrivateKey) ?? '',
            cert: cert.certificatePem + cert.certificateChainPem,
          });
        } catch (err) {
          this.logger.error('certificate cannot be used', {
            certificateArn: arn,
            error: (err as Error).message,
          });
          return undefined;
        }
      }
      next.set(key, ctx);
      return { ctx, cert };
    };
    // spec §7.4: a custom domain gets its service's certificate when it covers the name; no
    // fallback certificate otherwise.
    const customDomains = new Map<string, SecureContext | undefined>();
    const services = new Map(snapshot.services.map((s) => [s.id, s]));
    const domainsOf = new Map<string, string[]>();
    for (const s of snapshot.services)
      if (s.customDomainName) domainsOf.set(s.id, [s.customDomainName]);
    for (const a of snapshot.serviceNetworkServiceAssociations)
      if (a.customDomainName)
        domainsOf.set(a.serviceId, [...(domainsOf.get(a.serviceId) ?? []), a.customDomainName]);
    for (const [serviceId, domains] of domainsOf) {
      const found = contextFor(services.get(serviceId)?.certificateArn);
      for (const d of domains) {
        const host = d.toLowerCase();
        customDomains.set(
          host,
          found !== undefined && certificateCoversHost(found.cert, host) ? found.ctx : undefined,
        );
      }
    }
    this.contexts = next;
    this.table = new SniTable(compiled, https, customDomains, this.generated);

    // Which (address, port) pairs terminate TLS.
    const tlsPorts = new Map<string, Set<number>>();
    const plainPorts = new Map<string, Set<number>>();
    for (const [address, vpc] of compiled.vpcsByAddress) {
      const tls = new Set<number>();
      const plain = new Set<number>();
      for (const binding of vpc.hosts.values())
        for (const [port, l] of binding.listeners)
          (https.has(l.id) || passthrough?.isListener(l.id) === true ? tls : plain).add(port);
      tlsPorts.set(address, tls);
      plainPorts.set(address, plain);
    }
    return compiled.listenAddresses.map((a) => {
      const tls = tlsPorts.get(a.address)?.has(a.port) ?? false;
      if (tls && plainPorts.get(a.address)?.has(a.port))
        this.logger.warn('HTTP and HTTPS listeners share a port; the port serves HTTPS', {
          address: a.address,
          port: a.port,
        });
      return tls ? { ...a, tls: true } : a;
    });
  }

  /**
   * Puts a TLS server in front of a listener's HTTP server; returns the server that listens.
   * Decrypted connections go to the HTTP server's own connection handler (captured now, before
   * anything else may replace it), which is how `https` itself works.
   */
  wrap(http: HttpServer, address: string, port: number, h2?: Http2Server): TlsServer {
    const [connection] = http.listeners('connection') as ((socket: Socket) => void)[];
    const tls = createTlsServer({
      ...baseOptions,
      ALPNProtocols: ALPN_PROTOCOLS,
      SNICallback: (servername, cb) => cb(null, this.table?.resolve(address, port, servername)),
      handshakeTimeout: 10_000,
      // Nagle off from accept on (node:http's own servers do this; a TLS server does not by
      // default): with it on, the handshake's and the first answer's small records wait for the
      // client's delayed ACK — new connections/s fell to a fraction of nginx's with the CPU idle.
      noDelay: true,
    });
    tls.on('secureConnection', (socket: TLSSocket) => {
      // spec §7.1: connections that negotiated h2 go to the listener's HTTP/2 server (http2-front.ts).
      if (h2 !== undefined && socket.alpnProtocol === 'h2') h2.emit('connection', socket);
      else if (connection !== undefined) connection.call(http, socket);
      else socket.destroy();
    });
    // spec §7.1: on a port with TLS_PASSTHROUGH listeners the ClientHello is read first; names
    // that are not passthrough custom domains come back here for termination.
    const [terminate] = tls.listeners('connection') as ((socket: Socket) => void)[];
    if (terminate !== undefined) {
      const passthrough = this.passthrough;
      tls.removeAllListeners('connection');
      const handOver = (s: Socket): void => terminate.call(tls, s);
      tls.on('connection', (socket: Socket) => {
        if (passthrough?.servesPort(address, port) === true)
          passthrough.accept(socket, address, port, handOver);
        else terminate.call(tls, socket);
      });
    }
    // Handshake failures (no/unknown SNI, bad hello) close that connection only.
    tls.on('tlsClientError', (_err: Error, socket: TLSSocket) => socket.destroy());
    // node:http tracks connections (keep-alive closing, header timeouts) once it has "listened".
    tls.once('listening', () => http.emit('listening'));
    const closeHttp = http.close.bind(http);
    http.close = ((cb?: (err?: Error) => void) => {
      tls.close(() => closeHttp(() => cb?.()));
      return http;
    }) as typeof http.close;
    return tls;
  }
}

/** DNS SANs of a PEM certificate (the generated-name certificate's wildcard). */
function wildcardNames(pem: string): string[] {
  const alt = new X509Certificate(pem).subjectAltName ?? '';
  return alt
    .split(', ')
    .filter((e: string) => e.startsWith('DNS:'))
    .map((e: string) => e.slice(4));
}
