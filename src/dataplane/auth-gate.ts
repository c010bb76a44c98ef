import type { IncomingMessage } from 'node:http';
import type { AuthDeniedReason } from '../errors/dataplane-outcomes.js';
import type { Snapshot } from '../model/snapshot-types.js';
import type { ServiceBinding } from './compile-snapshot.js';

/** What the auth stage sees: the compiled service as reached through one network, and the request. */
export interface AuthGateInput {
  binding: ServiceBinding;
  sourceVpcId: string;
  /**
   * The request as received. `url` must be the request target exactly as on the wire (not
   * normalised): SigV4 signs the path as the client sent it (spec §2.2); the normalised path the
   * policy sees is `path`.
   */
  request: IncomingMessage;
  /** Listener port the request arrived on. */
  port?: number;
  /** The normalised path (request-path.ts) that routing used; the policy sees the same. */
  path?: string;
  /** What `prepare` returned for the snapshot this request is served from. */
  prepared?: unknown;
  /**
   * A TLS passthrough connection (spec §2.3): action `vpc-lattice-svcs:Connect` on the service ARN
   * (no path), anonymous principal (the proxy cannot see inside TLS).
   */
  connect?: boolean;
}

/** Caller and policy details for the access log (spec §4.1 `caller*`; the denying statement). */
export interface AuthDetail {
  callerPrincipal?: string;
  callerPrincipalOrgID?: string;
  /** JSON of the principal's tags. */
  callerPrincipalTags?: string;
  /** e.g. `Service policy "inventory" on arn:…: explicitly denied by Statement[1] (Sid "x")`. */
  deniedBy?: string;
}

/** The auth stage's verdict; a denial is an expected outcome, returned, not thrown. */
export type AuthDecision =
  | {
      allow: true;
      resolvedUser: string | null;
      /** Header name/value pairs for the target (spec §3.1 identity headers). */
      identityHeaders?: readonly string[];
      detail?: AuthDetail;
    }
  | {
      allow: false;
      /** 403 denied/unauthenticated; 400 for a request the verifier cannot take (signed payload). */
      status: 403 | 400;
      message: string;
      authDeniedReason: AuthDeniedReason;
      resolvedUser?: string | null;
      detail?: AuthDetail;
    };

/**
 * The authenticate + authorize stage of the pipeline (listener → route → authenticate → authorize
 * → select target → forward → log). Called only when the service or its network has
 * `authType: AWS_IAM`; synchronous, from memory (SigV4 key derivations cached, policies compiled).
 */
export interface AuthGate {
  /** Builds per-snapshot state once (policies, keys); passed back as `input.prepared`. */
  prepare?(snapshot: Snapshot): unknown;
  check(input: AuthGateInput): AuthDecision;
}

/**
 * The gate used until SigV4 verification and policy evaluation land: nothing behind `AWS_IAM` is
 * silently open, so every such request is denied the way Lattice denies an unauthenticated caller
 * (spec §2.5), naming the network when the network requires auth, else the service.
 */
export const denyAwsIamGate: AuthGate = {
  check({ binding }: AuthGateInput): AuthDecision {
    const network = binding.serviceNetworkAuthType === 'AWS_IAM';
    const kind = network ? 'network-based' : 'service-based';
    return {
      allow: false,
      status: 403,
      message: `AccessDeniedException: User: anonymous is not authorized to perform: vpc-lattice-svcs:Invoke on resource: ${binding.serviceArn}/ because no ${kind} policy allows the vpc-lattice-svcs:Invoke action\n`,
      authDeniedReason: network ? 'Network' : 'Service',
    };
  },
};
