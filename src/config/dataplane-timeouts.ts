/**
 * Data-plane timeouts of `trellis up` that the environment may override (only `config/` reads the
 * environment). Unset, the data plane's defaults apply: connect 10 s, and the service's
 * `idleTimeoutSeconds` (spec §6, at least 60 s) as the wait for a target's answer. A shorter answer
 * timeout lets an operator (or a test) see 504 `TargetDataTimeout` without waiting a minute.
 */

/** The overrides (milliseconds); absent members keep the data plane's defaults. */
export interface DataPlaneTimeoutSettings {
  /** `TRELLIS_TARGET_CONNECT_TIMEOUT_MS`: connecting to a target (→ 502 TargetConnectionError). */
  readonly targetConnectMs?: number;
  /** `TRELLIS_TARGET_RESPONSE_TIMEOUT_MS`: a target's answer, for every service (→ 504). */
  readonly targetResponseMs?: number;
}

const KEYS = {
  targetConnectMs: 'TRELLIS_TARGET_CONNECT_TIMEOUT_MS',
  targetResponseMs: 'TRELLIS_TARGET_RESPONSE_TIMEOUT_MS',
} as const;

/** Reads the overrides; throws an Error naming every bad value. */
export function dataPlaneTimeoutsFromEnv(
  env: Record<string, string | undefined>,
): DataPlaneTimeoutSettings {
  const out: { targetConnectMs?: number; targetResponseMs?: number } = {};
  const problems: string[] = [];
  for (const [field, key] of Object.entries(KEYS) as [keyof typeof KEYS, string][]) {
    const raw = env[key];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 3_600_000)
      problems.push(`${key} must be whole milliseconds from 1 to 3600000, got "${raw}"`);
    else out[field] = n;
  }
  if (problems.length) throw new Error(`invalid data-plane timeouts: ${problems.join('; ')}`);
  return Object.freeze(out);
}
