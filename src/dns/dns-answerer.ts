/**
 * The decision for one query, free of sockets: answer from the compiled zones, NXDOMAIN for
 * Lattice names the asking VPC cannot reach (spec §7.5), and for every other name either a
 * forward to the upstream resolver or REFUSED. Malformed queries answer FORMERR when their header
 * is readable and are dropped otherwise.
 */
import {
  RCODE,
  TYPE_A,
  TYPE_AAAA,
  CLASS_IN,
  encodeAnswer,
  encodeHeaderOnly,
  parseDnsQuery,
  type DnsQuery,
} from './dns-wire.js';
import type { DnsZones } from './dns-zones.js';

const TYPE_ANY = 255;
const NO_RECORDS: readonly Buffer[] = [];

/** What to do with a message. */
export type DnsDecision =
  | { kind: 'answer'; bytes: Buffer; rcode: number }
  | { kind: 'forward'; query: DnsQuery }
  | { kind: 'drop'; reason: string };

/** Decides answers against the current zones; swap `zones` per snapshot. */
export class DnsAnswerer {
  zones: DnsZones | undefined;

  constructor(
    /** VPC of queries that arrive on an address no VPC owns (the plain mode's default VPC). */
    private readonly defaultVpcId: string | undefined,
    /** Whether unknown names go to an upstream resolver (else REFUSED). */
    private readonly forwarding: boolean,
  ) {}

  /** The VPC a query arriving on `localAddress` comes from (canonical address text). */
  vpcFor(localAddress: string): string | undefined {
    return this.zones?.vpcByAddress.get(localAddress) ?? this.defaultVpcId;
  }

  /** Decides one message that arrived for `vpcId`; `maxBytes` bounds the answer (UDP: 512). */
  decide(msg: Uint8Array, vpcId: string | undefined, maxBytes: number): DnsDecision {
    const parsed = parseDnsQuery(msg);
    if (!parsed.ok) {
      // An unreadable header or a response sent to us is never answered (no reflection).
      if (parsed.id === undefined || parsed.error === 'not-a-query')
        return { kind: 'drop', reason: parsed.error };
      return {
        kind: 'answer',
        bytes: encodeHeaderOnly(parsed.id, parsed.flags ?? 0, RCODE.FORMERR),
        rcode: RCODE.FORMERR,
      };
    }
    const q = parsed.query;
    if (q.opcode !== 0) return answer(msg, q, RCODE.NOTIMP, NO_RECORDS, maxBytes, false);
    const zones = this.zones;
    if (zones === undefined) return answer(msg, q, RCODE.SERVFAIL, NO_RECORDS, maxBytes, false);
    const found = vpcId === undefined ? undefined : zones.byVpc.get(vpcId)?.names.get(q.name);
    if (found !== undefined) {
      if (q.qclass !== CLASS_IN && q.qclass !== TYPE_ANY)
        return answer(msg, q, RCODE.NOERROR, NO_RECORDS, maxBytes, true);
      const records =
        q.qtype === TYPE_A
          ? found.a
          : q.qtype === TYPE_AAAA
            ? found.aaaa
            : q.qtype === TYPE_ANY
              ? [...found.a, ...found.aaaa]
              : NO_RECORDS; // NODATA: the name exists, not with this type
      return answer(msg, q, RCODE.NOERROR, records, maxBytes, true);
    }
    // spec §7.5: a service the VPC cannot reach does not exist for it.
    if (zones.latticeNames.has(q.name) || q.name.endsWith(zones.latticeSuffix))
      return answer(msg, q, RCODE.NXDOMAIN, NO_RECORDS, maxBytes, true);
    if (this.forwarding) return { kind: 'forward', query: q };
    return answer(msg, q, RCODE.REFUSED, NO_RECORDS, maxBytes, false);
  }
}

function answer(
  msg: Uint8Array,
  q: DnsQuery,
  rcode: number,
  records: readonly Buffer[],
  maxBytes: number,
  authoritative: boolean,
): DnsDecision {
  return {
    kind: 'answer',
    bytes: encodeAnswer(msg, q, rcode, records, maxBytes, authoritative),
    rcode,
  };
}
