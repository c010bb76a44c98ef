/**
 * Certificates Trellis keeps in the role of AWS Certificate Manager (spec §1.5 Service
 * `certificateArn`, §7.4 custom domains). Stored as resource kind `certificate`; the private key
 * is only ever kept sealed (AES-256-GCM, see iam/x509/key-cipher.ts) and never returned by an API.
 */

/** ACM certificate types: imported, or issued by Trellis's local CA (`PRIVATE`). */
export type CertificateType = 'IMPORTED' | 'PRIVATE';

/** ACM key algorithm names. */
export type CertificateKeyAlgorithm =
  | 'RSA_1024'
  | 'RSA_2048'
  | 'RSA_3072'
  | 'RSA_4096'
  | 'EC_prime256v1'
  | 'EC_secp384r1'
  | 'EC_secp521r1';

/** A stored certificate (resource kind `certificate`). */
export interface StoredCertificate {
  certificateArn: string;
  /** The UUID at the end of the ARN; also the store id. */
  certificateId: string;
  /** Subject CN, or the first SAN when there is no CN. */
  domainName: string;
  subjectAlternativeNames: string[];
  subject: string;
  issuer: string;
  serial: string;
  /** ISO-8601. */
  notBefore: string;
  notAfter: string;
  keyAlgorithm: CertificateKeyAlgorithm;
  type: CertificateType;
  status: 'ISSUED';
  createdAt: string;
  /** Last import (re-import to the same ARN rotates in place). */
  importedAt?: string;
  issuedAt?: string;
  certificatePem: string;
  /** Intermediate certificates, PEM, in order (may be empty). */
  certificateChainPem: string;
  /** The private key, PEM, sealed (`v1.<iv>.<tag>.<ciphertext>`). */
  sealedPrivateKey: string;
  tags?: Record<string, string>;
}

/** `arn:{partition}:acm:{region}:{account}:certificate/{uuid}`. */
export function certificateArn(
  partition: string,
  region: string,
  accountId: string,
  id: string,
): string {
  return `arn:${partition}:acm:${region}:${accountId}:certificate/${id}`;
}

/**
 * spec §7.4: does certificate name `pattern` (a SAN dNSName or the CN) cover `host`? Exact match
 * (case-insensitive), or a wildcard of exactly one leftmost label: `*.example.com` covers
 * `a.example.com` but neither `example.com` nor `a.b.example.com`; `*.*.` patterns never match.
 */
export function certificateNameMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  const h = host.toLowerCase().replace(/\.$/, '');
  if (!p.startsWith('*.')) return p === h;
  const rest = p.slice(2);
  if (rest.includes('*') || !rest.includes('.')) return false;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === rest;
}

/** spec §7.4: SANs are checked when present; the CN only when there are none. */
export function certificateCoversHost(
  cert: Pick<StoredCertificate, 'subjectAlternativeNames' | 'domainName'>,
  host: string,
): boolean {
  const names =
    cert.subjectAlternativeNames.length > 0 ? cert.subjectAlternativeNames : [cert.domainName];
  return names.some((n) => certificateNameMatches(n, host));
}
