/**
 * Shared helpers of the data-plane end-to-end tests (test/dataplane/e2e-*.test.ts): upstream
 * servers that record what they receive, a client that sends Host-routed requests to an ingress
 * address, a `waitFor` poller, and the Lattice set-up every test file repeats (service network,
 * VPC association, service, target group, listener) through the official SDK.
 */
import assert from 'node:assert/strict';
import {
  createServer,
  request,
  type Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  CreateListenerCommand,
  CreateServiceCommand,
  CreateServiceNetworkCommand,
  CreateServiceNetworkServiceAssociationCommand,
  CreateServiceNetworkVpcAssociationCommand,
  CreateTargetGroupCommand,
  ListTargetsCommand,
  RegisterTargetsCommand,
  type HealthCheckConfig,
  type RuleAction,
  type TargetSummary,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { uniqueName } from './sdk-helpers.js';

/**
 * A random loopback address `127.x.y.z` with x in 10–99, so parallel test files (and the data
 * plane's own unit suites, which use x ≥ 100) never bind the same address.
 */
export function randomLoopback(): string {
  const r = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));
  return `127.${r(10, 99)}.${r(0, 255)}.${r(1, 254)}`;
}

/** A random high listener port; safe because each test file binds its own random address. */
export function randomPort(): number {
  return 20_000 + Math.floor(Math.random() * 40_000);
}

/** One request as an upstream received it. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** Peer address of the connection (the data plane's side). */
  remoteAddress: string;
  at: number;
}

/** What an upstream answers: a JSON echo of the request, tagged with the upstream's name. */
export interface EchoBody {
  name: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** An upstream HTTP server that records every request it receives. */
export interface RecordingUpstream {
  name: string;
  address: string;
  port: number;
  /** Traffic requests (health-check probes are kept apart in `probes`). */
  requests: RecordedRequest[];
  /** Health-check probes (user agent `Trellis-HealthChecker/…`). */
  probes: RecordedRequest[];
  /** Answer health checks with this status (default 200). */
  healthStatus: number;
  /** Delay health-check answers by this much (default 0), e.g. to observe INITIAL. */
  healthDelayMs: number;
  server: Server;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Handles a request itself (return true) instead of the echo. */
export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Starts an upstream on `host` (default 127.0.0.1; `::1` for IPv6) and an ephemeral port. Health
 * probes are answered `healthStatus` and recorded apart; every other request is recorded and
 * answered 200 with an {@link EchoBody}, unless `handler` takes it.
 */
export async function startUpstream(
  name: string,
  options: { host?: string; handler?: UpstreamHandler } = {},
): Promise<RecordingUpstream> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  const up: RecordingUpstream = {
    name,
    address: host,
    port: 0,
    requests: [],
    probes: [],
    healthStatus: 200,
    healthDelayMs: 0,
    server: createServer((req, res) => {
      const rec: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        remoteAddress: req.socket.remoteAddress ?? '',
        at: Date.now(),
      };
      if ((req.headers['user-agent'] ?? '').startsWith('Trellis-HealthChecker')) {
        up.probes.push(rec);
        const status = up.healthStatus;
        const answer = (): void => {
          if (!res.destroyed) res.writeHead(status, { 'content-type': 'text/plain' }).end('health');
        };
        if (up.healthDelayMs > 0) setTimeout(answer, up.healthDelayMs);
        else answer();
        return;
      }
      up.requests.push(rec);
      if (options.handler?.(req, res)) return;
      const body: EchoBody = { name, method: rec.method, url: rec.url, headers: req.headers };
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    }),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => up.server.close(() => r()));
    },
  };
  up.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    up.server.once('error', reject);
    up.server.listen(0, host, () => resolve());
  });
  up.port = (up.server.address() as AddressInfo).port;
  return up;
}

/** A data-plane answer as a client saw it. */
export interface ClientResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The upstream's echo, when the answer came from a {@link startUpstream} upstream. */
  echo(): EchoBody;
}

/** What {@link send} sends. */
export interface SendOptions {
  /** `Host` header value (service DNS name or custom domain, optionally with a port). */
  host: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  agent?: Agent | false;
  /** Client source address (e.g. the same one on two ingresses, spec §7.5 overlapping CIDRs). */
  localAddress?: string;
  timeoutMs?: number;
}

/** Sends one request to the data plane at `ingress:port` with a chosen `Host` (node:http). */
export function send(ingress: string, port: number, o: SendOptions): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: ingress,
        port,
        method: o.method ?? 'GET',
        path: o.path ?? '/',
        headers: { ...(o.headers ?? {}), host: o.host },
        agent: o.agent ?? false,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
        timeout: o.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            echo: () => JSON.parse(body) as EchoBody,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${ingress}:${port} timed out`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** The name of the upstream that answered, or `<status>` for a data-plane answer. */
export async function whoAnswers(ingress: string, port: number, o: SendOptions): Promise<string> {
  try {
    const r = await send(ingress, port, o);
    if (r.status === 200 && r.headers['content-type'] === 'application/json') return r.echo().name;
    return `<${r.status}>`;
  } catch (err) {
    return `<${(err as { code?: string }).code ?? 'error'}>`;
  }
}

/**
 * Polls `probe` until it returns a truthy value and returns that value; fails with `message` and
 * the last value seen after `timeoutMs`.
 */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  options: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const seen = lastError !== undefined ? String(lastError) : JSON.stringify(last);
      throw new Error(`${options.message ?? 'condition not met'} (last: ${seen})`);
    }
    await sleep(options.intervalMs ?? 20);
  }
}

/** Waits until `Host`-routed requests to `ingress:port` are answered by `expected`. */
export async function waitForAnswer(
  ingress: string,
  port: number,
  o: SendOptions,
  expected: string,
  timeoutMs = 5_000,
): Promise<void> {
  await waitFor(async () => (await whoAnswers(ingress, port, o)) === expected, {
    timeoutMs,
    message: `${o.host}${o.path ?? '/'} via ${ingress}:${port} never answered by ${expected}`,
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** p-th percentile (0–100) of a list of numbers (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

// -------------------------------------------------------------------------------------------
// Lattice set-up through the official SDK
// -------------------------------------------------------------------------------------------

/** A service network associated with a VPC. */
export interface Network {
  id: string;
  arn: string;
}

/** Creates a service network and associates `vpcId` with it (spec §7.5). */
export async function createNetwork(client: VPCLatticeClient, vpcId: string): Promise<Network> {
  const sn = await client.send(new CreateServiceNetworkCommand({ name: uniqueName('sn') }));
  await client.send(
    new CreateServiceNetworkVpcAssociationCommand({
      serviceNetworkIdentifier: sn.id,
      vpcIdentifier: vpcId,
    }),
  );
  return { id: sn.id!, arn: sn.arn! };
}

/** A service associated with a network, with its generated DNS name. */
export interface ServiceInfo {
  id: string;
  arn: string;
  dnsName: string;
  customDomainName?: string;
}

/** Creates a service (optionally with a custom domain / idle timeout) and associates it. */
export async function createService(
  client: VPCLatticeClient,
  networkId: string,
  options: { customDomainName?: string; idleTimeoutSeconds?: number; stem?: string } = {},
): Promise<ServiceInfo> {
  const svc = await client.send(
    new CreateServiceCommand({
      name: uniqueName(options.stem ?? 'service'),
      ...(options.customDomainName ? { customDomainName: options.customDomainName } : {}),
      ...(options.idleTimeoutSeconds ? { idleTimeoutSeconds: options.idleTimeoutSeconds } : {}),
    }),
  );
  await client.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceNetworkIdentifier: networkId,
      serviceIdentifier: svc.id,
    }),
  );
  assert.ok(svc.dnsEntry?.domainName, 'service has a generated DNS name');
  return {
    id: svc.id!,
    arn: svc.arn!,
    dnsName: svc.dnsEntry.domainName,
    ...(options.customDomainName ? { customDomainName: options.customDomainName } : {}),
  };
}

/** Health checks off: targets report UNAVAILABLE and are always routable (spec §5). */
export const NO_HEALTH_CHECK: HealthCheckConfig = { enabled: false };

/** A target group and its ARN. */
export interface TargetGroupInfo {
  id: string;
  arn: string;
}

/**
 * Creates an HTTP target group of `type` (IP by default) on `port` and registers `targets`
 * (ids: IPs, instance ids or ALB ARNs). Health checks default to off unless given.
 */
export async function createTargetGroup(
  client: VPCLatticeClient,
  vpcId: string,
  port: number,
  targets: { id: string; port?: number }[],
  options: {
    type?: 'IP' | 'INSTANCE' | 'ALB';
    healthCheck?: HealthCheckConfig;
    ipAddressType?: 'IPV4' | 'IPV6';
  } = {},
): Promise<TargetGroupInfo> {
  const type = options.type ?? 'IP';
  const tg = await client.send(
    new CreateTargetGroupCommand({
      name: uniqueName('group'),
      type,
      config: {
        port,
        protocol: 'HTTP',
        vpcIdentifier: vpcId,
        ...(type === 'ALB' ? {} : { healthCheck: options.healthCheck ?? NO_HEALTH_CHECK }),
        ...(options.ipAddressType ? { ipAddressType: options.ipAddressType } : {}),
        ...(type === 'ALB' ? {} : { protocolVersion: 'HTTP1' }),
      },
    }),
  );
  if (targets.length > 0) {
    const out = await client.send(
      new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets }),
    );
    assert.deepEqual(out.unsuccessful ?? [], [], 'every target registers');
  }
  return { id: tg.id!, arn: tg.arn! };
}

/** A forward action to one target group (or several, with weights). */
export function forwardTo(...groups: (string | { id: string; weight: number })[]): RuleAction {
  return {
    forward: {
      targetGroups: groups.map((g) =>
        typeof g === 'string'
          ? { targetGroupIdentifier: g }
          : { targetGroupIdentifier: g.id, weight: g.weight },
      ),
    },
  };
}

/** Creates an HTTP listener on `port` with `defaultAction`; returns its id. */
export async function createListener(
  client: VPCLatticeClient,
  serviceId: string,
  port: number,
  defaultAction: RuleAction,
): Promise<string> {
  const l = await client.send(
    new CreateListenerCommand({
      serviceIdentifier: serviceId,
      name: uniqueName('http'),
      protocol: 'HTTP',
      port,
      defaultAction,
    }),
  );
  return l.id!;
}

/** `ListTargets` of a group: status by target id (`id:port` when `withPort`). */
export async function targetStatuses(
  client: VPCLatticeClient,
  targetGroupId: string,
): Promise<Record<string, TargetSummary>> {
  const out = await client.send(new ListTargetsCommand({ targetGroupIdentifier: targetGroupId }));
  const byId: Record<string, TargetSummary> = {};
  for (const t of out.items ?? []) byId[`${t.id}:${t.port}`] = t;
  return byId;
}
