/**
 * Micro-benchmark of the SigV4/SigV4A verifier (spec §2.2; target < 10 µs per SigV4 verify with
 * a warm key cache). Requests are signed once by the official signers, then verified in a loop.
 * Run: `npx tsx bench/sigv4-verify.ts`. Figures go to bench/sigv4.md.
 */
import {
  SigningKeyCache,
  hasSignature,
  parseSignature,
  verifySignature,
  type ParsedSignature,
  type SignedRequestView,
  type VerifyOptions,
} from '../src/iam/sigv4/index.js';
import {
  CREDENTIAL,
  NOW_MS,
  REGION,
  TEMPORARY_CREDENTIAL,
  signV4,
  signV4a,
} from '../src/iam/sigv4/smithy-signers.test-support.js';

/**
 * Runs `fn` and prints ns/op twice: by CPU time of this process (what the work costs; robust on a
 * shared, loaded host) and by wall clock (what a caller waits, including time the CPU went to
 * other processes). Best of `rounds`.
 */
function time(label: string, iterations: number, fn: () => void, rounds = 5): number {
  for (let i = 0; i < Math.min(iterations, 5000); i++) fn(); // warm up
  let bestCpu = Infinity;
  let bestWall = Infinity;
  for (let r = 0; r < rounds; r++) {
    const cpu0 = process.cpuUsage();
    const wall0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    const wall = Number(process.hrtime.bigint() - wall0) / iterations;
    const cpu = process.cpuUsage(cpu0);
    bestCpu = Math.min(bestCpu, ((cpu.user + cpu.system) * 1000) / iterations);
    bestWall = Math.min(bestWall, wall);
  }
  console.log(
    `${label.padEnd(62)} ${fmt(bestCpu).padStart(10)} cpu ${fmt(bestWall).padStart(10)} wall`,
  );
  return bestCpu;
}

function fmt(ns: number): string {
  return ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`;
}

/** A view as Node would deliver it: signed headers plus the usual unsigned ones. */
function withClientHeaders(view: SignedRequestView): SignedRequestView {
  return {
    ...view,
    headers: {
      ...view.headers,
      'user-agent': 'aws-sdk-js/3 ua/2.1 os/linux lang/js md/nodejs#20',
      accept: '*/*',
      'accept-encoding': 'gzip, deflate',
      connection: 'keep-alive',
    },
  };
}

function mustParse(view: SignedRequestView): ParsedSignature {
  const parsed = parseSignature(view);
  if (!parsed.ok) throw new Error(`${parsed.code}: ${parsed.message}`);
  return parsed;
}

const dataPlane: VerifyOptions = {
  service: 'vpc-lattice-svcs',
  region: REGION,
  nowMs: NOW_MS,
  requireUnsignedPayload: true,
};
const controlPlane: VerifyOptions = {
  service: 'vpc-lattice',
  region: REGION,
  nowMs: NOW_MS,
  payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
};

const dataView = withClientHeaders(
  await signV4(
    { path: '/api/v1/items', query: { id: '42', page: '2' }, headers: { accept: '*/*' } },
    { service: 'vpc-lattice-svcs', uriEscapePath: false, unsignedPayload: true },
  ),
);
const tokenView = withClientHeaders(
  await signV4(
    { path: '/api/v1/items', query: { id: '42', page: '2' } },
    {
      service: 'vpc-lattice-svcs',
      uriEscapePath: false,
      unsignedPayload: true,
      credential: TEMPORARY_CREDENTIAL,
    },
  ),
);
const controlView = withClientHeaders(
  await signV4(
    {
      path: '/services/svc-0123456789abcdef0/listeners',
      query: { maxResults: '50', nextToken: 'eyJ2IjoxfQ==' },
    },
    { service: 'vpc-lattice' },
  ),
);
const presignedView = await signV4(
  { path: '/api/v1/items', query: { id: '42' } },
  {
    service: 'vpc-lattice-svcs',
    uriEscapePath: false,
    unsignedPayload: true,
    presignExpiresIn: 300,
  },
);
const v4aView = withClientHeaders(
  await signV4a(
    { path: '/api/v1/items', query: { id: '42', page: '2' } },
    { service: 'vpc-lattice-svcs', uriEscapePath: false, unsignedPayload: true, regionSet: '*' },
  ),
);

const parsedData = mustParse(dataView);
mustParse(tokenView);
mustParse(controlView);
mustParse(presignedView);
const parsedV4a = mustParse(v4aView);

let sink = 0;
const check = (ok: boolean) => {
  if (!ok) throw new Error('benchmark request failed to verify');
  sink++;
};

console.log(`Node ${process.version}; ns/op, best of 5 rounds`);
time('hasSignature (Authorization header)', 1_000_000, () => {
  if (hasSignature(dataView)) sink++;
});
time('parseSignature (Authorization header)', 200_000, () => {
  if (parseSignature(dataView).ok) sink++;
});
time('verifySignature SigV4, data plane, warm cache', 100_000, () => {
  check(verifySignature(dataView, parsedData, CREDENTIAL, dataPlane).ok);
});
time('parse + verify SigV4, data plane, warm cache (per request)', 100_000, () => {
  const parsed = parseSignature(dataView);
  check(parsed.ok && verifySignature(dataView, parsed, CREDENTIAL, dataPlane).ok);
});
time('parse + verify SigV4, data plane, session token', 100_000, () => {
  const parsed = parseSignature(tokenView);
  check(parsed.ok && verifySignature(tokenView, parsed, TEMPORARY_CREDENTIAL, dataPlane).ok);
});
time('parse + verify SigV4, control plane (double-encoded path)', 100_000, () => {
  const parsed = parseSignature(controlView);
  check(parsed.ok && verifySignature(controlView, parsed, CREDENTIAL, controlPlane).ok);
});
time('parse + verify SigV4, pre-signed URL', 100_000, () => {
  const parsed = parseSignature(presignedView);
  check(parsed.ok && verifySignature(presignedView, parsed, CREDENTIAL, dataPlane).ok);
});
const coldCache = new SigningKeyCache(1);
const coldOptions: VerifyOptions = { ...dataPlane, signingKeyCache: coldCache };
time('verifySignature SigV4, cold cache (key derived every time)', 50_000, () => {
  coldCache.clear();
  check(verifySignature(dataView, parsedData, CREDENTIAL, coldOptions).ok);
});
const forged: ParsedSignature = { ...parsedData, signature: '0'.repeat(64) };
time('verifySignature SigV4, wrong signature (mismatch path)', 100_000, () => {
  if (!verifySignature(dataView, forged, CREDENTIAL, dataPlane).ok) sink++;
});
time('verifySignature SigV4A (ECDSA P-256), warm public key', 5_000, () => {
  check(verifySignature(v4aView, parsedV4a, CREDENTIAL, dataPlane).ok);
});
const v4aCold: VerifyOptions = { ...dataPlane, signingKeyCache: coldCache };
time('verifySignature SigV4A, cold (KDF + public key derivation)', 1_000, () => {
  coldCache.clear();
  check(verifySignature(v4aView, parsedV4a, CREDENTIAL, v4aCold).ok);
});
if (sink === 0) console.log('');
