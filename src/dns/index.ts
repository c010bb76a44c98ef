/** The DNS room's public surface (what `bin/` wires). */
export { createDnsResponder } from './dns-responder.js';
export type {
  DnsEndpoint,
  DnsListen,
  DnsLogger,
  DnsResponder,
  DnsResponderOptions,
  DnsSnapshotSource,
} from './dns-responder.js';
export { DnsAnswerer, type DnsDecision } from './dns-answerer.js';
export { compileDnsZones, SERVE_DNS_TAG, servedNames, type DnsZones } from './dns-zones.js';
export { RateLimiter, type RateLimit } from './rate-limiter.js';
export * from './dns-wire.js';
