import type { Logger } from 'pino';
import type { Settings } from '../config/settings.js';
import type { SnapshotSource } from '../dataplane/snapshot-source.js';
import { createDnsResponder, type DnsResponder } from '../dns/index.js';
import type { Vpc } from '../model/inventory-types.js';
import type { Snapshot } from '../model/snapshot-types.js';
import { VpcNamespaces } from '../netns/index.js';

/** Port of the DNS responder on every namespace VPC's Lattice address (the address in resolv.conf). */
const NAMESPACE_DNS_PORT = 53;

export interface RunningNamespaces {
  /**
   * The snapshots the data plane and DNS serve: the store's, with each namespace VPC's
   * ingress addresses set to its Lattice addresses once its namespace is attached (empty before).
   */
  source: SnapshotSource;
  namespaces: VpcNamespaces;
  stop(): Promise<void>;
}

/**
 * Namespace VPCs (issue 8 §1, docs/multi-vpc.md): attaches every VPC that is a network namespace
 * before the data plane sees it (so it can listen on the Lattice address), and answers DNS on
 * port 53 of each Lattice address. With no namespace VPC the store's snapshots pass through
 * untouched.
 */
export async function startNetworkNamespaces(deps: {
  settings: Settings;
  snapshots: SnapshotSource;
  log: Logger;
}): Promise<RunningNamespaces> {
  const log = deps.log.child({ part: 'netns' });
  const namespaces = new VpcNamespaces({
    logger: {
      info: (message, fields) => log.info(fields ?? {}, message),
      warn: (message, fields) => log.warn(fields ?? {}, message),
      error: (message, fields) => log.error(fields ?? {}, message),
    },
  });
  const source = new NamespacedSnapshots(deps.snapshots, namespaces);
  await namespaces.start();
  await source.start();
  // spec §7.5: clients in a VPC resolve service names at its Lattice address, port 53. When
  // `--dns-listen vpcs:53` runs already, it binds those addresses itself.
  let dns: DnsResponder | undefined;
  const listen = deps.settings.dnsListen;
  if (!(listen.mode === 'vpcs' && listen.port === NAMESPACE_DNS_PORT)) {
    const dnsLog = deps.log.child({ part: 'dns', scope: 'namespace-vpcs' });
    dns = createDnsResponder({
      snapshotSource: namespaceVpcsOnly(source),
      listen: { mode: 'vpcs', port: NAMESPACE_DNS_PORT },
      ...(deps.settings.dnsUpstream ? { upstream: deps.settings.dnsUpstream } : {}),
      logger: {
        info: (message, fields) => dnsLog.info(fields ?? {}, message),
        warn: (message, fields) => dnsLog.warn(fields ?? {}, message),
      },
    });
    await dns.start();
  }
  return {
    source,
    namespaces,
    async stop() {
      await dns?.stop();
      source.stop();
      await namespaces.stop();
    },
  };
}

/**
 * The store's snapshots with namespace VPCs' addresses filled in. Each new snapshot is offered on
 * only after its namespaces are attached. When a namespace attaches later (a retry succeeded),
 * the same store revision is offered again as `revision + a fraction`: the data plane ignores
 * revisions it has seen, and `whenRevision(n)` still means "store revision n applied".
 */
class NamespacedSnapshots implements SnapshotSource {
  private latest: Snapshot | undefined;
  private raw: Snapshot | undefined;
  private reoffers = 0;
  private readonly listeners = new Set<(s: Snapshot) => void>();
  private unsubscribe: (() => void) | undefined;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly upstream: SnapshotSource,
    private readonly namespaces: VpcNamespaces,
  ) {
    namespaces.onChange = () => {
      if (this.raw === undefined) return;
      this.reoffers++;
      this.publish(this.rewrite(this.raw, this.reoffers));
    };
  }

  async start(): Promise<void> {
    this.unsubscribe = this.upstream.subscribe((s) => this.offer(s));
    const first = this.upstream.current();
    if (first !== undefined) this.offer(first);
    await this.queue;
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  current(): Snapshot | undefined {
    return this.latest;
  }

  subscribe(onSnapshot: (snapshot: Snapshot) => void): () => void {
    this.listeners.add(onSnapshot);
    return () => this.listeners.delete(onSnapshot);
  }

  private offer(snapshot: Snapshot): void {
    this.queue = this.queue.then(async () => {
      if (this.stopped) return;
      if (this.raw !== undefined && snapshot.revision <= this.raw.revision) return;
      await this.namespaces.reconcile(snapshot.vpcs);
      this.raw = snapshot;
      this.reoffers = 0;
      this.publish(this.rewrite(snapshot, 0));
    });
  }

  private publish(snapshot: Snapshot): void {
    this.latest = snapshot;
    for (const l of this.listeners) l(snapshot);
  }

  private rewrite(snapshot: Snapshot, reoffer: number): Snapshot {
    if (!snapshot.vpcs.some((v) => v.networkNamespace !== undefined)) return snapshot;
    const vpcs: Vpc[] = snapshot.vpcs.map((v) =>
      v.networkNamespace === undefined
        ? v
        : { ...v, ingressAddresses: this.namespaces.addresses(v.vpcId) },
    );
    // Strictly increasing and below the next store revision.
    const revision = snapshot.revision + (reoffer === 0 ? 0 : 1 - 1 / (reoffer + 1));
    return { ...snapshot, revision, vpcs };
  }
}

/** The snapshots with only namespace VPCs: the port-53 responder binds their addresses alone. */
function namespaceVpcsOnly(source: SnapshotSource): SnapshotSource {
  const view = (s: Snapshot): Snapshot => ({
    ...s,
    vpcs: s.vpcs.filter((v) => v.networkNamespace !== undefined),
  });
  return {
    current: () => {
      const s = source.current();
      return s === undefined ? undefined : view(s);
    },
    subscribe: (on) => source.subscribe((s) => on(view(s))),
  };
}
