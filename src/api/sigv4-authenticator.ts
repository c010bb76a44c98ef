import { createHash } from 'node:crypto';
import { AuthenticationError } from '../errors/aws-errors.js';
import { parseSignature, verifySignature, type SignedRequestView } from '../iam/sigv4/index.js';
import { findAccessKey } from '../manager/accounts.js';
import type { ControlPlaneStore } from '../manager/manager-context.js';
import type { ApiRequest, AuthenticatedCaller, Authenticator } from './api-server.js';

/** Signing names the control-plane endpoint answers for (spec §1.1: `vpc-lattice`). */
const API_SERVICES = new Set(['vpc-lattice', 'iam', 'sts', 'lambda', 'acm', 'ram', 'trellis']);

/**
 * Authenticates every control-plane call with SigV4 (spec §1.1): unsigned, mis-signed, expired
 * (outside ±5 minutes) or unknown-key requests answer 403 with the AWS error a real endpoint gives.
 */
export function createSigV4Authenticator(options: {
  store: ControlPlaneStore;
  region: string;
}): Authenticator {
  return {
    async authenticate(request: ApiRequest): Promise<AuthenticatedCaller> {
      const view: SignedRequestView = {
        method: request.method,
        rawPath: request.rawPath,
        rawQuery: request.rawQuery,
        headers: request.headers,
      };
      const parsed = parseSignature(view);
      if (!parsed.ok) {
        throw new AuthenticationError(
          parsed.code === 'MissingAuthenticationToken'
            ? 'MissingAuthenticationTokenException'
            : 'IncompleteSignatureException',
          parsed.message,
        );
      }
      if (!API_SERVICES.has(parsed.service)) {
        throw new AuthenticationError(
          'InvalidSignatureException',
          `Credential should be scoped to correct service: 'vpc-lattice'.`,
        );
      }
      const key = await findAccessKey(options.store.reader, parsed.accessKeyId);
      if (!key || key.status !== 'Active') {
        throw new AuthenticationError(
          'UnrecognizedClientException',
          'The security token included in the request is invalid.',
        );
      }
      if (key.expiration && Date.parse(key.expiration) <= Date.now()) {
        throw new AuthenticationError(
          'ExpiredTokenException',
          'The security token included in the request is expired',
        );
      }
      const payloadHash = createHash('sha256').update(request.body).digest('hex');
      const credential: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = {
        accessKeyId: key.accessKeyId,
        secretAccessKey: key.secretAccessKey,
      };
      if (key.sessionToken) credential.sessionToken = key.sessionToken;
      const result = verifySignature(view, parsed, credential, {
        service: parsed.service,
        region: options.region,
        payloadHash,
        uriEscapePath: true,
      });
      if (!result.ok) {
        const type =
          result.code === 'InvalidToken'
            ? 'UnrecognizedClientException'
            : result.code === 'IncompleteSignature'
              ? 'IncompleteSignatureException'
              : 'InvalidSignatureException';
        throw new AuthenticationError(type, result.message);
      }
      return {
        accountId: key.accountId,
        principalArn: key.principalArn,
        accessKeyId: key.accessKeyId,
        signingService: parsed.service,
      };
    },
  };
}
