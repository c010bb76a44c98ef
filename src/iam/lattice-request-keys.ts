/**
 * The condition keys of a data-plane request (spec §2.4), answered lazily: a policy that never
 * reads a header or the query string costs nothing for them. Shared by the data plane's auth gate
 * and `SimulateAuth`, so a simulation reads exactly the keys a real request would.
 */
import {
  createPrincipalKeys,
  type AuthorizationPrincipal,
  type ConditionKeyReader,
} from './policy/index.js';

/** What is known about one request to a service. Header names are lower case (Node's). */
export interface LatticeRequestFacts {
  /** Listener port (`vpc-lattice-svcs:Port`). */
  port: number;
  method: string;
  /** The (normalised) path, without the query (`vpc-lattice-svcs:RequestPath`). */
  path: string;
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The query as on the wire, without `?` (`''` when none). */
  rawQuery: string;
  serviceArn: string;
  serviceNetworkArn: string | undefined;
  sourceVpc: string | undefined;
  sourceVpcOwnerAccount: string | undefined;
  /** Client IP (`aws:SourceIp`). */
  sourceIp: string | undefined;
  /** The service's tags (`aws:ResourceTag/<key>`), keys lower-cased. */
  resourceTags: ReadonlyMap<string, string> | undefined;
  /** Request time (`aws:CurrentTime`, `aws:EpochTime`). */
  nowMs: number;
  /** Region (`aws:RequestedRegion`). */
  region: string;
}

const HEADER = 'vpc-lattice-svcs:requestheader/';
const QUERY = 'vpc-lattice-svcs:requestquerystring/';
const RESOURCE_TAG = 'aws:resourcetag/';

function decodeComponent(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus; // malformed escapes are compared as sent
  }
}

/**
 * Parses a raw query into lower-cased key → values (in order). Key names are matched
 * case-insensitively, because condition keys reach readers lower-cased (spec §2.4: key names are
 * case-sensitive in IAM; Trellis cannot tell `?Mode=` from `?mode=`, documented limitation).
 */
export function parseQueryValues(rawQuery: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (rawQuery === '') return out;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decodeComponent(eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : decodeComponent(part.slice(eq + 1));
    const list = out.get(key);
    if (list === undefined) out.set(key, [value]);
    else list.push(value);
  }
  return out;
}

/** Reads a request's condition keys, then the principal's (`aws:Principal*`, `aws:userid`, …). */
export class LatticeRequestKeys implements ConditionKeyReader {
  private query: Map<string, string[]> | undefined = undefined;
  private readonly principalKeys: ConditionKeyReader;

  /** `principalKeys`: the principal's reader when the caller holds one (built per snapshot). */
  constructor(
    private readonly facts: LatticeRequestFacts,
    principal: AuthorizationPrincipal | undefined,
    principalKeys?: ConditionKeyReader,
  ) {
    this.principalKeys = principalKeys ?? createPrincipalKeys(principal);
  }

  get(key: string): string | readonly string[] | undefined {
    const f = this.facts;
    if (key.startsWith('vpc-lattice-svcs:')) {
      if (key.startsWith(HEADER)) {
        const v = f.headers[key.slice(HEADER.length)];
        return v === undefined || typeof v === 'string' ? v : v.join(', ');
      }
      if (key.startsWith(QUERY)) {
        this.query ??= parseQueryValues(f.rawQuery);
        return this.query.get(key.slice(QUERY.length));
      }
      switch (key) {
        case 'vpc-lattice-svcs:port':
          return String(f.port);
        case 'vpc-lattice-svcs:requestmethod':
          return f.method;
        case 'vpc-lattice-svcs:requestpath':
          return f.path;
        case 'vpc-lattice-svcs:servicearn':
          return f.serviceArn;
        case 'vpc-lattice-svcs:servicenetworkarn':
          return f.serviceNetworkArn;
        case 'vpc-lattice-svcs:sourcevpc':
          return f.sourceVpc;
        case 'vpc-lattice-svcs:sourcevpcowneraccount':
          return f.sourceVpcOwnerAccount;
      }
      return undefined;
    }
    if (key.startsWith(RESOURCE_TAG)) return f.resourceTags?.get(key.slice(RESOURCE_TAG.length));
    switch (key) {
      case 'aws:sourceip':
        return f.sourceIp;
      case 'aws:currenttime':
        return new Date(f.nowMs).toISOString();
      case 'aws:epochtime':
        return String(Math.floor(f.nowMs / 1000));
      case 'aws:securetransport':
        return 'false'; // HTTP listeners only (TLS terminates elsewhere for now)
      case 'aws:requestedregion':
        return f.region;
    }
    return this.principalKeys.get(key);
  }
}

/** The keys of one request (see `LatticeRequestKeys`). */
export function createLatticeRequestKeys(
  facts: LatticeRequestFacts,
  principal: AuthorizationPrincipal | undefined,
): ConditionKeyReader {
  return new LatticeRequestKeys(facts, principal);
}

/** Lower-cases tag keys once (IAM matches `aws:ResourceTag/<key>` case-insensitively). */
export function lowerCaseTags(
  tags: Readonly<Record<string, string>> | undefined,
): ReadonlyMap<string, string> | undefined {
  if (tags === undefined) return undefined;
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(tags)) m.set(k.toLowerCase(), v);
  return m;
}
