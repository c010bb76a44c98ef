import type { IncomingMessage } from 'node:http';
import type { AuthDeniedReason } from '../errors/dataplane-outcomes.js';
import type { ServiceBinding } from './compile-snapshot.js';

/** What the auth stage sees: the compiled service as reached through one network, and the request. */
export interface AuthGateInput {
  binding: ServiceBinding;
  sourceVpcId: string;
  request: IncomingMessage;
}

/** The auth stage's verdict; a denial is an expected outcome, returned, not thrown. */
export type AuthDecision =
  | { allow: true; resolvedUser: string | null }
  | { allow: false; status: 403; message: string; authDeniedReason: AuthDeniedReason };

/**
 * The authenticate + authorize stage of the pipeline (listener → route → authenticate → authorize
 * → select target → forward → log). Called only when the service or its network has
 * `authType: AWS_IAM`; synchronous, from memory (SigV4 key derivations cached, policies compiled).
 */
export interface AuthGate {
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
