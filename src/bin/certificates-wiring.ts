import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  createRootCertificate,
  loadCertificateAuthority,
  type CertificateWithKey,
  type LocalCertificateAuthority,
} from '../iam/x509/certificate-issuer.js';
import { createKeyCipher, type KeyCipher } from '../iam/x509/key-cipher.js';
import type { CertificatePorts } from '../manager/certificates.js';
import type { DataPlaneTlsOptions } from '../dataplane/tls-listener.js';
import { DNS_PARTITION_LABEL } from '../model/ids.js';

/** The certificate machinery of one `trellis up`: sealing key, local CA, generated-name cert. */
export interface CertificatesRuntime {
  /** For the certificate store (manager): seal keys, issue from the local CA. */
  ports: CertificatePorts;
  /** For the data plane: opens sealed keys carried by snapshots. */
  cipher: KeyCipher;
  authority: LocalCertificateAuthority;
  /** `<data-dir>/ca.pem`: the root clients trust. */
  caFile: string;
  /**
   * spec §7.1: Lattice serves its own certificate for generated names; ours covers
   * `*.<label>.vpc-lattice-svcs.<region>.on.aws` (one label: every generated name).
   */
  generatedNameCertificate: CertificateWithKey;
}

function readOrCreate(file: string, create: () => Buffer | string): Buffer {
  if (existsSync(file)) return readFileSync(file);
  const value = create();
  writeFileSync(file, value, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return Buffer.isBuffer(value) ? value : Buffer.from(value);
}

/**
 * Prepares certificates for `trellis up`: `<data-dir>/keys/certificate-key` (32 random bytes,
 * mode 0600, made on first start) seals private keys at rest; the local CA's key is kept sealed
 * under it in `<data-dir>/keys/ca-key.sealed`, its root in `<data-dir>/ca.pem` for clients.
 */
export function prepareCertificates(dataDir: string, region: string): CertificatesRuntime {
  const cacheKey = `${resolve(dataDir)}|${region}`;
  const cached = prepared.get(cacheKey);
  if (cached !== undefined) return cached;
  const runtime = prepare(dataDir, region);
  prepared.set(cacheKey, runtime);
  return runtime;
}

/** One runtime per data dir and region in a process (`trellis up` and its data plane share it). */
const prepared = new Map<string, CertificatesRuntime>();

function prepare(dataDir: string, region: string): CertificatesRuntime {
  const keys = join(dataDir, 'keys');
  mkdirSync(keys, { recursive: true, mode: 0o700 });
  chmodSync(keys, 0o700);
  const key = readOrCreate(join(keys, 'certificate-key'), () => randomBytes(32));
  const cipher = createKeyCipher(key);
  const caFile = join(dataDir, 'ca.pem');
  const sealedCaKey = join(keys, 'ca-key.sealed');
  let root: { certificatePem: string; privateKeyPem: string };
  if (existsSync(sealedCaKey) && existsSync(caFile)) {
    root = {
      certificatePem: readFileSync(caFile, 'utf8'),
      privateKeyPem: cipher.open(readFileSync(sealedCaKey, 'utf8')),
    };
  } else {
    root = createRootCertificate();
    writeFileSync(sealedCaKey, cipher.seal(root.privateKeyPem), { mode: 0o600 });
    writeFileSync(caFile, root.certificatePem, { mode: 0o644 });
  }
  const authority = loadCertificateAuthority(root);
  const generatedNameCertificate = authority.issue({
    commonName: `*.${DNS_PARTITION_LABEL}.vpc-lattice-svcs.${region}.on.aws`,
    dnsNames: [`*.${DNS_PARTITION_LABEL}.vpc-lattice-svcs.${region}.on.aws`],
  });
  return {
    ports: {
      seal: (pem) => cipher.seal(pem),
      issue: (dnsNames) => authority.issue({ dnsNames }),
    },
    cipher,
    authority,
    caFile,
    generatedNameCertificate,
  };
}

/** The data plane's TLS options: only the key-opening function and the generated-name cert. */
export function dataPlaneTls(runtime: CertificatesRuntime): DataPlaneTlsOptions {
  return {
    openKey: (sealed) => runtime.cipher.open(sealed),
    generatedNameCertificate: runtime.generatedNameCertificate,
  };
}
