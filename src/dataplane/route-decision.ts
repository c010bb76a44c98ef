import type { IncomingMessage } from 'node:http';
import { DATAPLANE_RESPONSES, type FailureReason } from '../errors/dataplane-outcomes.js';
import type { AuthGate } from './auth-gate.js';
import type { CompiledSnapshot, CompiledVpc, ServiceBinding } from './compile-snapshot.js';
import type { RequestRecord } from './request-record.js';
import type { MatchInput } from './rule-matcher.js';
import type { TargetHealthView } from './target-health.js';
import type { CompiledAction, CompiledTarget, ForwardChoice } from './target-picker.js';

const R = DATAPLANE_RESPONSES;

/**
 * The outcome of the routing stages (route → authenticate/authorize → select target) for one
 * request: either a target to forward to (`target` set) or an answer to give (`status` set). Shared
 * by the node:http path (data-plane.ts) and the socket fast path (fast-path/), so both decide alike.
 */
export class RouteDecision {
  /** Status of the answer when nothing is forwarded (0 while forwarding). */
  status = 0;
  body = '';
  reason: FailureReason | undefined = undefined;
  /** Close the client connection after the answer. */
  close = false;
  vpc: CompiledVpc | null = null;
  /** Set once the host and listener matched; its idle timeout then applies (spec §6). */
  binding: ServiceBinding | null = null;
  choice: ForwardChoice | null = null;
  target: CompiledTarget | null = null;
  /** Header name/value pairs from the auth gate (spec §3.1 identity headers). */
  identityHeaders: readonly string[] | undefined = undefined;
}

/** Where the request arrived: the listener's ingress address and port. */
export interface RouteListener {
  readonly address: string;
  readonly port: number;
}

/**
 * `routeRequest` bound to the data plane's current snapshot, auth state and health view: what the
 * fast path, the HTTP/2 front and the upgrade tunnel call. `l` is the accepting listener.
 */
export type BoundRoute = (
  out: RouteDecision,
  l: RouteListener,
  host: string | undefined,
  method: string,
  url: string,
  request: IncomingMessage,
  record: RequestRecord | null,
) => void;

/** The auth stage as the data plane holds it: the gate and its state for the current snapshot. */
export interface RouteAuth {
  readonly gate: AuthGate;
  readonly prepared: unknown;
}

/**
 * Route: ingress address → VPC → Host → service → port → listener → rules; then the auth gate
 * (only when the service or network is `AWS_IAM`); then the target group by weight and the target
 * by round robin (spec §7.2). `url` is the normalised request target; `request` supplies the header
 * map for header conditions and the auth gate. Fills `out` and the record's routing fields.
 */
export function routeRequest(
  out: RouteDecision,
  compiled: CompiledSnapshot | undefined,
  auth: RouteAuth,
  healthView: TargetHealthView | undefined,
  l: RouteListener,
  host: string | undefined,
  method: string,
  url: string,
  request: IncomingMessage,
  record: RequestRecord | null,
): void {
  const vpc = compiled?.vpcsByAddress.get(l.address);
  if (vpc === undefined) return answer(out, 404, R.unknownService.body, undefined);
  out.vpc = vpc;
  if (record !== null) {
    record.sourceVpcId = vpc.vpcId;
    record.sourceVpcArn = vpc.sourceVpcArn;
  }
  const binding = vpc.hosts.get(hostName(host));
  if (binding === undefined) return answer(out, 404, R.unknownService.body, undefined);
  if (record !== null) {
    record.serviceArn = binding.serviceArn;
    record.serviceNetworkArn = binding.serviceNetworkArn;
  }
  const listener = binding.listeners.get(l.port);
  if (listener === undefined) return answer(out, 404, R.noListener.body, undefined);
  out.binding = binding;
  if (record !== null) record.listenerId = listener.id;

  let action: CompiledAction = listener.defaultAction;
  const rules = listener.rules;
  if (rules.length > 0) {
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const input: MatchInput = {
      method,
      path,
      lowerPath: listener.needsLowerPath ? path.toLowerCase() : '',
      headers: request.headers,
    };
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      if (rule.match.matches(input)) {
        action = rule.action;
        break;
      }
    }
  }

  // Authenticate + authorize (skipped entirely when both auth types are NONE).
  if (binding.authRequired) {
    const q = url.indexOf('?');
    const decision = auth.gate.check({
      binding,
      sourceVpcId: vpc.vpcId,
      request,
      port: l.port,
      path: q < 0 ? url : url.slice(0, q),
      prepared: auth.prepared,
    });
    if (record !== null) {
      record.resolvedUser = decision.resolvedUser ?? null;
      record.auth = decision.detail;
    }
    if (!decision.allow) {
      if (record !== null) record.authDeniedReason = decision.authDeniedReason;
      return answer(out, decision.status, decision.message, 'ClientAccessDenied');
    }
    out.identityHeaders = decision.identityHeaders;
  }

  if (action.kind === 'fixed') return answer(out, action.statusCode, action.body, undefined);

  // Select target group by weight, then target by round robin.
  const choice = action.pick();
  if (choice === undefined) return answer(out, 503, R.noHealthyTarget.body, undefined);
  const group = choice.group;
  if (record !== null) record.targetGroupArn = group.arn;
  // spec §7.3: HTTP/1.1 clients cannot reach HTTP2 or GRPC target groups (HTTP/2 clients are
  // checked further by http2-front.ts, which sets httpVersionMajor 2 on its request view).
  if (group.protocolVersion !== 'HTTP1' && request.httpVersionMajor !== 2)
    return answer(out, 400, R.protocolMismatch.body, 'ClientProtocolError');
  const target = group.select(healthView);
  if (target === undefined || target.pool === undefined)
    return answer(out, 503, R.noHealthyTarget.body, undefined);
  if (record !== null) record.targetIpPort = target.ipPort;
  out.choice = choice;
  out.target = target;
}

function answer(
  out: RouteDecision,
  status: number,
  body: string,
  reason: FailureReason | undefined,
): void {
  out.status = status;
  out.body = body;
  out.reason = reason;
}

/** The host name of a `Host` header: port removed, lower-cased (spec §7.2 step 1). */
export function hostName(host: string | undefined): string {
  if (host === undefined) return '';
  let end = host.length;
  if (host.charCodeAt(0) === 91 /* '[' */) {
    const close = host.indexOf(']');
    return (close < 0 ? host : host.slice(0, close + 1)).toLowerCase();
  }
  const colon = host.lastIndexOf(':');
  if (colon >= 0) end = colon;
  const name = end === host.length ? host : host.slice(0, end);
  // Fast path: names are usually lower case already.
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) return name.toLowerCase();
  }
  return name;
}
