/**
 * Helpers of the TLS end-to-end tests: an ACM client for a running `trellis up`, certificates made
 * with Trellis's own issuer (a separate "customer" CA, self-signed leaves, expired ones), and an
 * HTTPS client that trusts only the CA it is given.
 */
import { request as httpsRequest, type Agent } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ACMClient, ImportCertificateCommand } from '@aws-sdk/client-acm';
import {
  createRootCertificate,
  loadCertificateAuthority,
  selfSignedCertificate,
  type CertificateWithKey,
} from '../../src/iam/x509/certificate-issuer.js';
import type { TrellisProcess } from '../support/trellis-process.js';

/** An ACM client signed with the admin credentials of `proc`. */
export function acmClient(proc: TrellisProcess): ACMClient {
  return new ACMClient({
    endpoint: proc.endpoint,
    region: proc.region,
    credentials: proc.credentials,
    maxAttempts: 1,
  });
}

/** A "customer" CA, as a company's own PKI would be: root PEM + an issuer. */
export function customerCa(): {
  rootPem: string;
  issue: (names: string[], validityDays?: number, notBefore?: Date) => CertificateWithKey;
} {
  const root = createRootCertificate('Example Corp Root');
  const ca = loadCertificateAuthority(root);
  return {
    rootPem: root.certificatePem,
    issue: (dnsNames, validityDays, notBefore) =>
      ca.issue({
        dnsNames,
        ...(validityDays !== undefined ? { validityDays } : {}),
        ...(notBefore !== undefined ? { notBefore } : {}),
      }),
  };
}

/** Imports a certificate through ACM; returns its ARN. */
export async function importCert(acm: ACMClient, c: CertificateWithKey): Promise<string> {
  const out = await acm.send(
    new ImportCertificateCommand({
      Certificate: Buffer.from(c.certificatePem),
      PrivateKey: Buffer.from(c.privateKeyPem),
      ...(c.chainPem ? { CertificateChain: Buffer.from(c.chainPem) } : {}),
    }),
  );
  return out.CertificateArn!;
}

/** What an HTTPS exchange returned, plus what the TLS session was. */
export interface HttpsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  protocol: string | null;
  alpn: string | false | null;
  peerSubjectCn: string | undefined;
  /** Local port of the TCP connection (to prove a keep-alive connection was reused). */
  localPort: number | undefined;
}

/**
 * One HTTPS request to `address:port` with SNI `servername` (false: none) and `Host: host`,
 * trusting only `ca` — certificate verification stays on.
 */
export function httpsGet(
  address: string,
  port: number,
  o: {
    servername: string | false;
    host?: string;
    ca: string;
    path?: string;
    agent?: Agent | false;
    headers?: Record<string, string>;
    timeoutMs?: number;
  },
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: address,
        port,
        path: o.path ?? '/',
        ca: o.ca,
        ...(o.servername === false ? { servername: '' } : { servername: o.servername }),
        headers: { ...(o.headers ?? {}), host: o.host ?? (o.servername || address) },
        agent: o.agent ?? false,
        timeout: o.timeoutMs ?? 10_000,
        // The default checkServerIdentity checks the name against `servername`/host; keep it.
      },
      (res) => {
        // Read the session now: a keep-alive agent takes the socket back at 'end'.
        const socket = res.socket as TLSSocket;
        const session = {
          protocol: socket.getProtocol(),
          alpn: socket.alpnProtocol ?? null,
          peerSubjectCn: socket.getPeerCertificate()?.subject?.CN as string | undefined,
          localPort: socket.localPort,
        };
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ...session,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('https request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Imports a fresh self-signed certificate for `domain` into `proc`'s store; returns its ARN. */
export async function importSelfSigned(proc: TrellisProcess, domain: string): Promise<string> {
  const acm = acmClient(proc);
  try {
    return await importCert(acm, selfSignedCertificate({ dnsNames: [domain] }));
  } finally {
    acm.destroy();
  }
}
