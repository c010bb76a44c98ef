import type { HealthCheckConfig, TargetGroupConfig } from './lattice-types.js';

/** A health-check config with every field resolved (spec §5). */
export interface ResolvedHealthCheck {
  enabled: boolean;
  protocol: 'HTTP' | 'HTTPS' | 'TCP';
  protocolVersion: 'HTTP1' | 'HTTP2';
  /** Undefined: the target's traffic port. */
  port: number | undefined;
  path: string;
  healthCheckIntervalSeconds: number;
  healthCheckTimeoutSeconds: number;
  healthyThresholdCount: number;
  unhealthyThresholdCount: number;
  matcher: { httpCode: string };
}

/**
 * Resolves the health check of a target group with Lattice's defaults: enabled for HTTP1 target
 * groups, disabled for HTTP2/GRPC/TCP; interval 30 s, timeout 5 s, healthy 5, unhealthy 2, matcher
 * 200; zero means "reset to default" (spec §5).
 */
export function resolveHealthCheck(config: TargetGroupConfig | undefined): ResolvedHealthCheck {
  const hc: HealthCheckConfig = config?.healthCheck ?? {};
  const tgProtocolVersion = config?.protocolVersion ?? 'HTTP1';
  const tgProtocol = config?.protocol ?? 'HTTP';
  const enabledByDefault = tgProtocolVersion === 'HTTP1' && tgProtocol !== 'TCP';
  return {
    enabled: hc.enabled ?? enabledByDefault,
    protocol: hc.protocol ?? (tgProtocol === 'TCP' ? 'HTTP' : tgProtocol),
    protocolVersion: hc.protocolVersion ?? 'HTTP1',
    port: hc.port ? hc.port : undefined,
    path: hc.path ? hc.path : '/',
    healthCheckIntervalSeconds: hc.healthCheckIntervalSeconds || 30,
    healthCheckTimeoutSeconds: hc.healthCheckTimeoutSeconds || 5,
    healthyThresholdCount: hc.healthyThresholdCount || 5,
    unhealthyThresholdCount: hc.unhealthyThresholdCount || 2,
    matcher: { httpCode: hc.matcher?.httpCode || '200' },
  };
}
