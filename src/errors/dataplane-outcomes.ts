/**
 * Data-plane outcome codes: the `failureReason` values of the Lattice access log (spec §4.1) and
 * the `authDeniedReason` values. Expected outcomes on the hot path are return values, not throws.
 */
export const FAILURE_REASONS = [
  'TargetConnectionError',
  'TargetProtocolError',
  'TargetDataTimeout',
  'TargetConnectionClosed',
  'ClientConnectionClosed',
  'ClientRateLimited',
  'ClientAccessDenied',
  'ClientProtocolError',
  'ConnectionDurationExceeded',
  'InternalError',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export type AuthDeniedReason = 'Service' | 'Network' | 'Identity';

/** Outcomes the data plane answers itself, with their status codes and short bodies. */
export const DATAPLANE_RESPONSES = Object.freeze({
  unknownService: { status: 404, body: 'Non Existent Service\n' },
  noListener: { status: 404, body: 'Non Existent Service\n' },
  noHealthyTarget: { status: 503, body: 'No healthy target\n' },
  targetFailure: { status: 502, body: 'Bad Gateway\n' },
  targetTimeout: { status: 504, body: 'Gateway Timeout\n' },
  badRequest: { status: 400, body: 'Bad Request\n' },
  headersTooLarge: { status: 400, body: 'Request Header Fields Too Large\n' },
  internal: { status: 500, body: 'Internal Error\n' },
  /** spec §7.3: a client protocol the target group's protocolVersion cannot serve. */
  protocolMismatch: { status: 400, body: 'Client protocol not supported by the target group\n' },
});
