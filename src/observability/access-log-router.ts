/**
 * Which access-log subscriptions receive a record (spec §4.1 "Who gets logs"): a subscription on
 * a service network gets the traffic of clients in VPCs associated with that network, to all its
 * services; one on a service gets all traffic to that service. Compiled once per snapshot into
 * maps, so a record costs at most three map lookups.
 */
import type { Snapshot } from '../model/snapshot-types.js';

/** The kinds of destination an access-log subscription can name (spec §1.5). */
export type LogDestinationType = 'cloudwatch' | 's3' | 'firehose';

/** Where one subscription's records go. */
export interface LogDestinationSpec {
  /** Identity of the writer: records of subscriptions with equal keys share one writer. */
  readonly key: string;
  readonly type: LogDestinationType;
  readonly destinationArn: string;
  /** Log group name, bucket name or delivery-stream name. */
  readonly name: string;
  /** S3: the key prefix after the bucket (may be empty). */
  readonly prefix: string;
  /** S3: the subscribed resource's id and owner account (the object key names both). */
  readonly resourceId: string;
  readonly accountId: string;
  readonly region: string;
}

/** One subscription, resolved. */
export interface LogRoute {
  readonly subscriptionId: string;
  readonly destination: LogDestinationSpec;
}

const LOG_GROUP = /^arn:[a-z0-9-]+:logs:([a-z0-9-]+):(\d{12}):log-group:(.+?)(?::\*)?$/;
const S3_BUCKET = /^arn:[a-z0-9-]+:s3:::([^/]+)(?:\/(.*))?$/;
const FIREHOSE = /^arn:[a-z0-9-]+:firehose:([a-z0-9-]+):(\d{12}):deliverystream\/(.+)$/;

/**
 * Parses a destination ARN; undefined for a shape Trellis cannot write (create-time validation in
 * manager/access-log-subscriptions.ts already refuses those).
 */
export function parseDestination(
  destinationArn: string,
  resourceId: string,
  accountId: string,
  region: string,
): LogDestinationSpec | undefined {
  let m = LOG_GROUP.exec(destinationArn);
  if (m) {
    const name = m[3]!;
    return {
      key: `cloudwatch:${name}`,
      type: 'cloudwatch',
      destinationArn,
      name,
      prefix: '',
      resourceId,
      accountId,
      region,
    };
  }
  m = S3_BUCKET.exec(destinationArn);
  if (m) {
    const name = m[1]!;
    const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
    // The object key names the resource, so each subscribed resource gets its own batches.
    return {
      key: `s3:${name}/${prefix}|${resourceId}`,
      type: 's3',
      destinationArn,
      name,
      prefix,
      resourceId,
      accountId,
      region,
    };
  }
  m = FIREHOSE.exec(destinationArn);
  if (m) {
    const name = m[3]!;
    return {
      key: `firehose:${name}`,
      type: 'firehose',
      destinationArn,
      name,
      prefix: '',
      resourceId,
      accountId,
      region,
    };
  }
  return undefined;
}

/** The routing table of one snapshot. */
export class AccessLogRoutes {
  /** Service ARN → subscriptions on that service. */
  readonly byService = new Map<string, LogRoute[]>();
  /** Service-network ARN → subscriptions on that network (log type SERVICE). */
  readonly byNetwork = new Map<string, LogRoute[]>();
  /** VPC id → the network it is associated with (records that found no service, e.g. 404). */
  readonly networkByVpc = new Map<string, string>();
  /** Target-group ARN → its VPC (`destinationVpcId`). */
  readonly targetGroupVpc = new Map<string, string>();
  /** Every distinct destination, by key. */
  readonly destinations = new Map<string, LogDestinationSpec>();
  /** Subscriptions whose destination could not be parsed. */
  readonly skipped: string[] = [];

  /** True when no subscription exists: the hook then does nothing per request. */
  get isEmpty(): boolean {
    return this.destinations.size === 0;
  }

  /**
   * The routes a record goes to, appended to `out` (reused by the caller); returns how many.
   * `serviceNetworkArn` is empty when routing stopped before a service was found.
   */
  collect(
    serviceArn: string,
    serviceNetworkArn: string,
    sourceVpcId: string,
    out: LogRoute[],
  ): number {
    out.length = 0;
    if (serviceArn !== '') {
      const s = this.byService.get(serviceArn);
      if (s !== undefined) for (let i = 0; i < s.length; i++) out.push(s[i]!);
    }
    if (this.byNetwork.size > 0) {
      const net = serviceNetworkArn !== '' ? serviceNetworkArn : this.networkByVpc.get(sourceVpcId);
      if (net !== undefined) {
        const n = this.byNetwork.get(net);
        if (n !== undefined) for (let i = 0; i < n.length; i++) out.push(n[i]!);
      }
    }
    return out.length;
  }
}

/** Compiles a snapshot's access-log subscriptions into routes. */
export function compileAccessLogRoutes(snapshot: Snapshot): AccessLogRoutes {
  const routes = new AccessLogRoutes();
  for (const a of snapshot.serviceNetworkVpcAssociations)
    routes.networkByVpc.set(a.vpcId, a.serviceNetworkArn);
  for (const tg of snapshot.targetGroups) {
    const vpc = tg.config?.vpcIdentifier;
    if (vpc) routes.targetGroupVpc.set(tg.arn, vpc);
  }
  for (const sub of snapshot.accessLogSubscriptions) {
    // RESOURCE-type network subscriptions carry TCP resource logs only (spec §4.1).
    if (sub.serviceNetworkLogType === 'RESOURCE') continue;
    const destination = parseDestination(
      sub.destinationArn,
      sub.resourceId,
      sub.accountId,
      snapshot.region,
    );
    if (destination === undefined) {
      routes.skipped.push(sub.id);
      continue;
    }
    const existing = routes.destinations.get(destination.key);
    const shared = existing ?? destination;
    if (existing === undefined) routes.destinations.set(destination.key, destination);
    const route: LogRoute = { subscriptionId: sub.id, destination: shared };
    const isNetwork = sub.resourceArn.includes(':servicenetwork/');
    const map = isNetwork ? routes.byNetwork : routes.byService;
    let list = map.get(sub.resourceArn);
    if (list === undefined) map.set(sub.resourceArn, (list = []));
    list.push(route);
  }
  return routes;
}
