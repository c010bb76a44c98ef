/**
 * Configures Trellis through the official VPC Lattice SDK for the benchmarks: a service network
 * associated with the default VPC, services behind it, an HTTP listener forwarding to an IP target
 * group, and bulk seeding with bounded concurrency.
 */
import {
  CreateListenerCommand,
  CreateServiceCommand,
  CreateServiceNetworkCommand,
  CreateServiceNetworkServiceAssociationCommand,
  CreateServiceNetworkVpcAssociationCommand,
  CreateTargetGroupCommand,
  ListTargetsCommand,
  RegisterTargetsCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { request } from 'node:http';
import { sleep } from './bench-kit.js';

/** `trellis up`'s default VPC id for an account (src/manager/default-vpc.ts). */
export function defaultVpcId(accountId: string): string {
  return `vpc-0${accountId.padStart(12, '0')}def0`;
}

export interface ServiceNetworkSetup {
  serviceNetworkId: string;
}

/** A service network associated with the VPC, so its services are reachable at the VPC ingress. */
export async function createNetwork(
  client: VPCLatticeClient,
  name: string,
  vpcId: string,
): Promise<ServiceNetworkSetup> {
  const sn = await client.send(new CreateServiceNetworkCommand({ name }));
  await client.send(
    new CreateServiceNetworkVpcAssociationCommand({
      serviceNetworkIdentifier: sn.id!,
      vpcIdentifier: vpcId,
    }),
  );
  return { serviceNetworkId: sn.id! };
}

/**
 * A service associated with the network; returns its id and the DNS name clients send as Host.
 * `tls` gives it a custom domain served with that certificate (HTTPS listeners).
 */
export async function createAssociatedService(
  client: VPCLatticeClient,
  serviceNetworkId: string,
  name: string,
  tls?: { customDomainName: string; certificateArn: string },
): Promise<{ serviceId: string; host: string }> {
  const svc = await client.send(new CreateServiceCommand({ name, ...tls }));
  await client.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceNetworkIdentifier: serviceNetworkId,
      serviceIdentifier: svc.id!,
    }),
  );
  return { serviceId: svc.id!, host: svc.dnsEntry!.domainName! };
}

export interface ProxyChain {
  serviceNetworkId: string;
  serviceId: string;
  host: string;
  listenerId: string;
  targetGroupId: string;
}

/**
 * Service network → service → HTTP listener on `listenerPort` whose default action forwards to an IP
 * target group (health check on) holding the one upstream target.
 */
export async function createProxyChain(
  client: VPCLatticeClient,
  options: {
    name: string;
    vpcId: string;
    upstream: { address: string; port: number };
    listenerPort: number;
    serviceNetworkId?: string;
  },
): Promise<ProxyChain> {
  const serviceNetworkId =
    options.serviceNetworkId ??
    (await createNetwork(client, `${options.name}-sn`, options.vpcId)).serviceNetworkId;
  const { serviceId, host } = await createAssociatedService(
    client,
    serviceNetworkId,
    `${options.name}-svc`,
  );
  const tg = await client.send(
    new CreateTargetGroupCommand({
      name: `${options.name}-tg`,
      type: 'IP',
      config: {
        port: options.upstream.port,
        protocol: 'HTTP',
        protocolVersion: 'HTTP1',
        vpcIdentifier: options.vpcId,
        healthCheck: {
          enabled: true,
          protocol: 'HTTP',
          path: '/',
          healthCheckIntervalSeconds: 5,
          healthCheckTimeoutSeconds: 2,
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
          matcher: { httpCode: '200' },
        },
      },
    }),
  );
  await client.send(
    new RegisterTargetsCommand({
      targetGroupIdentifier: tg.id!,
      targets: [{ id: options.upstream.address, port: options.upstream.port }],
    }),
  );
  const listener = await client.send(
    new CreateListenerCommand({
      serviceIdentifier: serviceId,
      name: `${options.name}-l`,
      protocol: 'HTTP',
      port: options.listenerPort,
      defaultAction: {
        forward: { targetGroups: [{ targetGroupIdentifier: tg.id!, weight: 100 }] },
      },
    }),
  );
  return { serviceNetworkId, serviceId, host, listenerId: listener.id!, targetGroupId: tg.id! };
}

/** Waits until ListTargets reports every target of the group HEALTHY (bounded). */
export async function waitHealthy(
  client: VPCLatticeClient,
  targetGroupId: string,
  timeoutMs = 30_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let status = 'unknown';
  while (Date.now() < deadline) {
    const out = await client.send(new ListTargetsCommand({ targetGroupIdentifier: targetGroupId }));
    status = (out.items ?? []).map((t) => t.status).join(',');
    if (out.items?.length && out.items.every((t) => t.status === 'HEALTHY')) return status;
    await sleep(250);
  }
  return status;
}

/** One GET through the data plane; resolves with the status code (0 on a socket error). */
export function probe(address: string, port: number, host: string, path = '/'): Promise<number> {
  return new Promise((res) => {
    const req = request({ host: address, port, path, headers: { host }, agent: false }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode ?? 0));
    });
    req.setTimeout(5000, () => req.destroy());
    req.on('error', () => res(0));
    req.end();
  });
}

/** Polls until the data plane answers `status` for the host (bounded); throws on timeout. */
export async function waitServing(
  address: string,
  port: number,
  host: string,
  status = 200,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    last = await probe(address, port, host);
    if (last === status) return;
    await sleep(50);
  }
  throw new Error(
    `data plane at ${address}:${port} (Host ${host}) answered ${last}, not ${status}`,
  );
}

/**
 * Runs `count` calls of `task(i)` with at most `concurrency` in flight; returns per-call latencies
 * (ms) and the wall time. Every failure is counted and the first one rethrown at the end.
 */
export async function pooled(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
  onProgress?: (done: number) => void,
): Promise<{ latenciesMs: number[]; wallMs: number }> {
  const latenciesMs: number[] = new Array<number>(count);
  let next = 0;
  let done = 0;
  let firstError: unknown;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < count && firstError === undefined) {
      const i = next++;
      const t0 = performance.now();
      try {
        await task(i);
      } catch (err) {
        firstError ??= err;
      }
      latenciesMs[i] = performance.now() - t0;
      done++;
      if (onProgress && done % 1000 === 0) onProgress(done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (firstError !== undefined) throw firstError;
  return { latenciesMs, wallMs: performance.now() - started };
}
