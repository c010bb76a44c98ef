import type { Dispatcher } from 'undici';
import type { ResolvedHealthCheck } from '../model/health-check-defaults.js';
import type { TargetGroupProtocolVersion, TargetGroupType } from '../model/lattice-types.js';
import type { Http2Origin } from './http2-upstream-pools.js';
import type { TargetHealthView } from './target-health.js';

/** A registered target as the forwarder uses it. */
export class CompiledTarget {
  /** `${id}:${port}`, the health checker's key. */
  readonly key: string;
  readonly id: string;
  readonly port: number;
  /** IP literal to connect to; undefined when an INSTANCE/ALB target cannot be resolved. */
  readonly address: string | undefined;
  /** `ip:port` (`[ip]:port` for IPv6), the access log's `targetIpPort`. */
  readonly ipPort: string;
  /** Deregistered: gets no new requests (spec §5). */
  readonly draining: boolean;
  /** Keep-alive pool to this target (set when the target is routable). */
  readonly pool: Dispatcher | undefined;
  /** Multiplexed HTTP/2 sessions to this target (HTTP2/GRPC target groups, spec §7.3). */
  readonly h2: Http2Origin | undefined;
  /**
   * Source address of connections to this target: the Lattice address of its VPC when that VPC
   * is a network namespace (policy routing takes the connection into the namespace, netns/).
   */
  localAddress: string | undefined = undefined;

  constructor(
    id: string,
    port: number,
    address: string | undefined,
    draining: boolean,
    pool: Dispatcher | undefined,
    h2?: Http2Origin,
  ) {
    this.key = `${id}:${port}`;
    this.id = id;
    this.port = port;
    this.address = address;
    this.ipPort =
      address === undefined
        ? '-'
        : address.includes(':')
          ? `[${address}]:${port}`
          : `${address}:${port}`;
    this.draining = draining;
    this.pool = pool;
    this.h2 = h2;
  }
}

/**
 * A target group compiled for routing: its candidate targets and a round-robin cursor (spec §7.2
 * step 4). The routable subset is cached per health-view generation, so a request does one array
 * index in the common case.
 */
export class TargetGroupRuntime {
  readonly id: string;
  readonly arn: string;
  readonly type: TargetGroupType;
  readonly healthCheck: ResolvedHealthCheck;
  /** Referenced by some listener default action or rule. */
  inUse = false;
  /** Every registered target, for the health-check plan. */
  readonly targets: readonly CompiledTarget[];
  /** Non-draining targets with an address: the only ones that may get new requests. */
  readonly candidates: readonly CompiledTarget[];
  /** Whether the health view decides (ALB and LAMBDA groups are not health checked, spec §5). */
  readonly healthChecked: boolean;
  /** How targets are spoken to (spec §7.3 protocol matrix); HTTP1 for LAMBDA/ALB/TCP. */
  protocolVersion: TargetGroupProtocolVersion = 'HTTP1';
  private cursor = 0;
  private cachedGeneration = -1;
  private routable: readonly CompiledTarget[] = [];

  constructor(
    id: string,
    arn: string,
    type: TargetGroupType,
    healthCheck: ResolvedHealthCheck,
    targets: readonly CompiledTarget[],
    /** A TCP group (TLS passthrough): its targets have an address and no HTTP pool. */
    readonly tcp = false,
  ) {
    this.id = id;
    this.arn = arn;
    this.type = type;
    this.healthCheck = healthCheck;
    this.targets = targets;
    this.candidates = targets.filter(
      (t) => !t.draining && (tcp ? t.address !== undefined : t.pool !== undefined),
    );
    this.healthChecked = type === 'IP' || type === 'INSTANCE';
  }

  /**
   * Next target by round robin over the routable ones; fail-open to every candidate when none is
   * routable (spec §5); undefined when the group has no candidate at all (→ 503).
   */
  select(view: TargetHealthView | undefined): CompiledTarget | undefined {
    let list = this.candidates;
    if (view !== undefined && this.healthChecked && list.length > 0) {
      if (view.generation !== this.cachedGeneration) this.refresh(view);
      if (this.routable.length > 0) list = this.routable;
    }
    const n = list.length;
    if (n === 0) return undefined;
    if (n === 1) return list[0];
    const i = this.cursor;
    this.cursor = i + 1 >= n ? 0 : i + 1;
    return list[i < n ? i : 0];
  }

  /**
   * Another target after a connect failure (issue #3, like nginx `proxy_next_upstream error`): the
   * next one by round robin that is not in `tried`; undefined when every candidate was tried.
   */
  selectOther(
    view: TargetHealthView | undefined,
    tried: readonly CompiledTarget[],
  ): CompiledTarget | undefined {
    let list = this.candidates;
    if (view !== undefined && this.healthChecked && list.length > 0) {
      if (view.generation !== this.cachedGeneration) this.refresh(view);
      if (this.routable.length > 0) list = this.routable;
    }
    const n = list.length;
    for (let k = 0; k < n; k++) {
      const i = this.cursor;
      this.cursor = i + 1 >= n ? 0 : i + 1;
      const t = list[i < n ? i : 0]!;
      if (!tried.includes(t)) return t;
    }
    return undefined;
  }

  private refresh(view: TargetHealthView): void {
    this.cachedGeneration = view.generation;
    this.routable = this.candidates.filter((t) => view.isRoutable(this.id, t.key));
  }
}

/** One weighted choice of a forward action, with the target header precomputed for it (spec §3.1). */
export class ForwardChoice {
  constructor(
    readonly group: TargetGroupRuntime,
    readonly weight: number,
    /** `x-amzn-lattice-target` value for (service, service network, target group). */
    readonly targetHeader: string,
  ) {}
}

/** `forward` action: picks a target group in proportion to weight; weight 0 is never chosen. */
export class ForwardAction {
  readonly kind = 'forward' as const;
  readonly choices: readonly ForwardChoice[];
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(choices: readonly ForwardChoice[]) {
    this.choices = choices.filter((c) => c.weight > 0);
    this.cumulative = new Float64Array(this.choices.length);
    let sum = 0;
    for (let i = 0; i < this.choices.length; i++) {
      sum += this.choices[i]!.weight;
      this.cumulative[i] = sum;
    }
    this.total = sum;
  }

  pick(): ForwardChoice | undefined {
    const n = this.choices.length;
    if (n <= 1) return this.choices[0];
    const r = Math.random() * this.total;
    const c = this.cumulative;
    for (let i = 0; i < n - 1; i++) if (r < c[i]!) return this.choices[i];
    return this.choices[n - 1];
  }
}

/** `fixedResponse` action: status only; the body is the short reason phrase (spec §1.5 Rule). */
export class FixedResponseAction {
  readonly kind = 'fixed' as const;
  constructor(
    readonly statusCode: number,
    readonly body: string,
  ) {}
}

export type CompiledAction = ForwardAction | FixedResponseAction;
