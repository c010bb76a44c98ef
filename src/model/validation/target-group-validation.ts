/**
 * Field rules of target groups (spec §1.5 TargetGroup, §5 health checks): which `config` members
 * each type accepts, their ranges and defaults. Violations carry dotted paths (`config.port`).
 */

import { resolveHealthCheck } from '../health-check-defaults.js';
import type { HealthCheckConfig, TargetGroupConfig, TargetGroupType } from '../lattice-types.js';
import {
  checkBoolean,
  checkEnum,
  checkInteger,
  checkKnownMembers,
  isPlainObject,
  type FieldViolation,
} from './field-rules.js';
import { VPC_ID_PATTERN } from './inventory-validation.js';

export const TARGET_GROUP_TYPES: readonly TargetGroupType[] = ['IP', 'LAMBDA', 'INSTANCE', 'ALB'];
const PROTOCOLS = ['HTTP', 'HTTPS', 'TCP'] as const;
const PROTOCOL_VERSIONS = ['HTTP1', 'HTTP2', 'GRPC'] as const;
const IP_ADDRESS_TYPES = ['IPV4', 'IPV6'] as const;
const LAMBDA_VERSIONS = ['V1', 'V2'] as const;
const HC_PROTOCOLS = ['HTTP', 'HTTPS', 'TCP'] as const;
const HC_PROTOCOL_VERSIONS = ['HTTP1', 'HTTP2'] as const;

const CONFIG_MEMBERS = [
  'port',
  'protocol',
  'protocolVersion',
  'ipAddressType',
  'vpcIdentifier',
  'healthCheck',
  'lambdaEventStructureVersion',
];
const HEALTH_CHECK_MEMBERS = [
  'enabled',
  'protocol',
  'protocolVersion',
  'port',
  'path',
  'healthCheckIntervalSeconds',
  'healthCheckTimeoutSeconds',
  'healthyThresholdCount',
  'unhealthyThresholdCount',
  'matcher',
];
/** spec §5: `/[a-zA-Z0-9@:%_+.~#?&/=-]*` or empty. */
const HEALTH_CHECK_PATH = /^(?:\/[a-zA-Z0-9@:%_+.~#?&/=-]*)?$/;
const HTTP_CODE = /^[0-9,-]+$/;

/** Members a type must not carry (spec §1.5 TargetGroupConfig). */
const FORBIDDEN: Record<TargetGroupType, readonly string[]> = {
  LAMBDA: ['port', 'protocol', 'protocolVersion', 'ipAddressType', 'vpcIdentifier', 'healthCheck'],
  IP: ['lambdaEventStructureVersion'],
  INSTANCE: ['ipAddressType', 'lambdaEventStructureVersion'],
  ALB: ['ipAddressType', 'lambdaEventStructureVersion', 'healthCheck'],
};

/** Checks an integer that may also be 0 ("reset to default", spec §5) or lie in [min, max]. */
function checkZeroOrRange(
  out: FieldViolation[],
  field: string,
  value: unknown,
  min: number,
  max: number,
): void {
  if (value === undefined) return;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    (value !== 0 && (value < min || value > max))
  ) {
    out.push({
      name: field,
      message: `must be 0 (the default) or an integer between ${min} and ${max}`,
    });
  }
}

/** Checks a `matcher.httpCode` list or range: values 200–499 (spec §5). */
function checkHttpCode(out: FieldViolation[], field: string, value: unknown): void {
  if (
    typeof value !== 'string' ||
    value.length < 1 ||
    value.length > 2000 ||
    !HTTP_CODE.test(value)
  ) {
    out.push({
      name: field,
      message: 'must be a list ("200,202") or range ("200-299") of HTTP codes',
    });
    return;
  }
  for (const part of value.split(',')) {
    const bounds = part.split('-');
    const nums = bounds.map((b) => (/^\d{3}$/.test(b) ? Number(b) : NaN));
    const ok =
      bounds.length <= 2 &&
      nums.every((n) => n >= 200 && n <= 499) &&
      (nums.length === 1 || nums[0]! <= nums[1]!);
    if (!ok) {
      out.push({
        name: field,
        message: `"${part}" is not an HTTP code or range between 200 and 499`,
      });
      return;
    }
  }
}

/** Validates a `HealthCheckConfig` (spec §5); reports every problem under `prefix`. */
export function checkHealthCheck(out: FieldViolation[], prefix: string, value: unknown): void {
  if (!isPlainObject(value)) {
    out.push({ name: prefix, message: 'must be an object' });
    return;
  }
  checkKnownMembers(out, prefix, value, HEALTH_CHECK_MEMBERS);
  checkBoolean(out, `${prefix}.enabled`, value.enabled);
  checkEnum(out, `${prefix}.protocol`, value.protocol, HC_PROTOCOLS);
  checkEnum(out, `${prefix}.protocolVersion`, value.protocolVersion, HC_PROTOCOL_VERSIONS);
  checkInteger(out, `${prefix}.port`, value.port, 0, 65535);
  if (value.path !== undefined) {
    if (
      typeof value.path !== 'string' ||
      value.path.length > 2048 ||
      !HEALTH_CHECK_PATH.test(value.path)
    ) {
      out.push({
        name: `${prefix}.path`,
        message:
          'must be empty or start with "/" and use only [a-zA-Z0-9@:%_+.~#?&/=-], at most 2048 characters',
      });
    }
  }
  checkZeroOrRange(
    out,
    `${prefix}.healthCheckIntervalSeconds`,
    value.healthCheckIntervalSeconds,
    5,
    300,
  );
  checkZeroOrRange(
    out,
    `${prefix}.healthCheckTimeoutSeconds`,
    value.healthCheckTimeoutSeconds,
    1,
    120,
  );
  checkZeroOrRange(out, `${prefix}.healthyThresholdCount`, value.healthyThresholdCount, 2, 10);
  checkZeroOrRange(out, `${prefix}.unhealthyThresholdCount`, value.unhealthyThresholdCount, 2, 10);
  if (value.matcher !== undefined) {
    if (!isPlainObject(value.matcher)) {
      out.push({ name: `${prefix}.matcher`, message: 'must be an object' });
    } else {
      checkKnownMembers(out, `${prefix}.matcher`, value.matcher, ['httpCode']);
      if (value.matcher.httpCode !== undefined) {
        checkHttpCode(out, `${prefix}.matcher.httpCode`, value.matcher.httpCode);
      }
    }
  }
}

/**
 * Validates the `config` of CreateTargetGroup for `type` (spec §1.5): required except LAMBDA;
 * members a type does not take are rejected by name; `vpcIdentifier` and `protocol` are required
 * except for LAMBDA; TCP groups need an explicit port.
 */
export function checkTargetGroupConfig(
  out: FieldViolation[],
  type: TargetGroupType,
  value: unknown,
): void {
  if (value === undefined) {
    if (type !== 'LAMBDA')
      out.push({ name: 'config', message: `is required for ${type} target groups` });
    return;
  }
  if (!isPlainObject(value)) {
    out.push({ name: 'config', message: 'must be an object' });
    return;
  }
  checkKnownMembers(out, 'config', value, CONFIG_MEMBERS);
  for (const member of FORBIDDEN[type]) {
    if (value[member] !== undefined) {
      out.push({ name: `config.${member}`, message: `is not supported for ${type} target groups` });
    }
  }
  if (type === 'LAMBDA') {
    checkEnum(
      out,
      'config.lambdaEventStructureVersion',
      value.lambdaEventStructureVersion,
      LAMBDA_VERSIONS,
    );
    return;
  }
  checkEnum(out, 'config.protocol', value.protocol, PROTOCOLS, true);
  checkEnum(out, 'config.protocolVersion', value.protocolVersion, PROTOCOL_VERSIONS);
  checkInteger(out, 'config.port', value.port, 1, 65535, value.protocol === 'TCP');
  if (type === 'IP') checkEnum(out, 'config.ipAddressType', value.ipAddressType, IP_ADDRESS_TYPES);
  if (typeof value.vpcIdentifier !== 'string' || !VPC_ID_PATTERN.test(value.vpcIdentifier)) {
    out.push({
      name: 'config.vpcIdentifier',
      message: 'is required and must be a VPC id (vpc- followed by 8 or 17 characters)',
    });
  }
  if (value.healthCheck !== undefined && type !== 'ALB') {
    checkHealthCheck(out, 'config.healthCheck', value.healthCheck);
  }
}

/**
 * The config Trellis stores for a valid request: defaults filled in (port 80/443, HTTP1, IPV4,
 * V1) and the health check resolved (spec §5), as GetTargetGroup shows it.
 */
export function normalizeTargetGroupConfig(
  type: TargetGroupType,
  raw: Record<string, unknown> | undefined,
): TargetGroupConfig {
  if (type === 'LAMBDA') {
    return {
      lambdaEventStructureVersion:
        (raw?.lambdaEventStructureVersion as 'V1' | 'V2' | undefined) ?? 'V1',
    };
  }
  const c = raw as TargetGroupConfig;
  const protocol = c.protocol!;
  const config: TargetGroupConfig = {
    port: c.port ?? (protocol === 'HTTPS' ? 443 : 80),
    protocol,
    protocolVersion: c.protocolVersion ?? 'HTTP1',
    vpcIdentifier: c.vpcIdentifier!,
  };
  if (type === 'IP') config.ipAddressType = c.ipAddressType ?? 'IPV4';
  if (type !== 'ALB') config.healthCheck = resolvedHealthCheckConfig(config, c.healthCheck);
  return config;
}

/**
 * Merges an UpdateTargetGroup health check over the stored one and resolves defaults; 0 resets a
 * numeric field to its default (spec §5).
 */
export function resolvedHealthCheckConfig(
  config: TargetGroupConfig,
  healthCheck: HealthCheckConfig | undefined,
): HealthCheckConfig {
  const r = resolveHealthCheck({ ...config, healthCheck: healthCheck ?? {} });
  const out: HealthCheckConfig = {
    enabled: r.enabled,
    protocol: r.protocol,
    protocolVersion: r.protocolVersion,
    path: r.path,
    healthCheckIntervalSeconds: r.healthCheckIntervalSeconds,
    healthCheckTimeoutSeconds: r.healthCheckTimeoutSeconds,
    healthyThresholdCount: r.healthyThresholdCount,
    unhealthyThresholdCount: r.unhealthyThresholdCount,
    matcher: { httpCode: r.matcher.httpCode },
  };
  if (r.port !== undefined) out.port = r.port;
  return out;
}
