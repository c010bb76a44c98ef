/**
 * GetUsage (Trellis's own operation): per service and hour, the requests and bytes the data plane
 * metered (observability/usage-meter.ts → store usage table), the service-hours derived from when
 * each service was created, and the estimated charge under the configured price list (defaults:
 * Lattice's published structure, config/monitoring-settings.ts). Only the caller's own services
 * are shown. Services already deleted are not known to the store, so their hours are not counted.
 */
import { ValidationException } from '../errors/aws-errors.js';
import { idFromIdentifier } from '../model/ids.js';
import type { Service } from '../model/lattice-types.js';
import type { UsageIncrement } from '../store/store.js';
import type { OperationScope } from './manager-context.js';

/** The price list (USD), same shape as config's `PriceList`. */
export interface UsagePrices {
  readonly perServiceHour: number;
  readonly perGbProcessed: number;
  readonly perMillionRequests: number;
  readonly freeRequestsPerHour: number;
}

/** What GetUsage needs from the process: the store's usage table and the prices. */
export interface UsageAccess {
  listUsage(filter: { hour?: string; serviceId?: string }): Promise<UsageIncrement[]>;
  readonly prices: UsagePrices;
}

/** One row of GetUsage. */
export interface UsageRow {
  serviceId: string;
  serviceArn: string;
  serviceName: string;
  hour: string;
  requests: number;
  bytesProcessed: number;
  serviceHours: number;
  estimatedCharge: number;
}

/** GetUsage's answer. */
export interface UsageReport {
  items: UsageRow[];
  totals: {
    requests: number;
    bytesProcessed: number;
    serviceHours: number;
    estimatedCharge: number;
  };
  prices: UsagePrices;
}

const HOUR_MS = 3_600_000;

/**
 * Parses `--hour`: `2026-11-26T11`, `2026-11-26T11:00`, `2026-11-26T11:00:00Z`, `2026-11-26 11`
 * → `2026-11-26T11:00:00Z` (the stored form); throws ValidationException otherwise.
 */
export function parseUsageHour(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2})(?::00(?::00)?(?:\.0+)?)?Z?$/.exec(text.trim());
  const hour = m ? `${m[1]}T${m[2]}:00:00Z` : '';
  if (!m || Number.isNaN(Date.parse(hour))) {
    throw new ValidationException(`hour must look like 2026-11-26T11 (UTC hour), got "${text}"`, [
      { name: 'hour', message: 'expected YYYY-MM-DDTHH' },
    ]);
  }
  return hour;
}

/** Fraction of the hour starting at `hourStart` during which a service created at `createdAt` existed. */
function hoursExisted(createdAt: number, hourStart: number, now: number): number {
  const from = Math.max(createdAt, hourStart);
  const to = Math.min(hourStart + HOUR_MS, now);
  return to > from ? (to - from) / HOUR_MS : 0;
}

/** The charge of `requests`/`bytes`/`serviceHours` within one service-hour. */
export function hourlyCharge(
  prices: UsagePrices,
  requests: number,
  bytes: number,
  serviceHours: number,
): number {
  const billable = Math.max(0, requests - prices.freeRequestsPerHour);
  return (
    serviceHours * prices.perServiceHour +
    (bytes / 1e9) * prices.perGbProcessed +
    (billable / 1e6) * prices.perMillionRequests
  );
}

async function ownServices(scope: OperationScope): Promise<Service[]> {
  const out: Service[] = [];
  let afterId: string | undefined;
  do {
    const page = await scope.reader.list<Service>({
      kind: 'service',
      accountId: scope.caller.accountId,
      limit: 1000,
      ...(afterId ? { afterId } : {}),
    });
    for (const item of page.items) out.push(item.data);
    afterId = page.lastId;
  } while (afterId);
  return out;
}

/** GetUsage: rows per (service, hour); `hour` narrows to one hour, `serviceIdentifier` to one service. */
export async function getUsage(
  scope: OperationScope,
  input: { hour?: string; serviceIdentifier?: string },
): Promise<UsageReport> {
  const access = scope.ctx.usage;
  if (access === undefined)
    throw new ValidationException('usage metering is not enabled in this process', []);
  const hour = input.hour ? parseUsageHour(input.hour) : undefined;
  const serviceId = input.serviceIdentifier ? idFromIdentifier(input.serviceIdentifier) : undefined;
  const now = Date.parse(scope.ctx.now());
  const services = new Map<string, Service>();
  for (const s of await ownServices(scope))
    if (serviceId === undefined || s.id === serviceId) services.set(s.id, s);
  const rows = await access.listUsage({
    ...(hour ? { hour } : {}),
    ...(serviceId ? { serviceId } : {}),
  });
  const prices = access.prices;
  const items: UsageRow[] = [];
  const seen = new Set<string>();
  const row = (s: Service, h: string, requests: number, bytes: number): UsageRow => {
    const serviceHours = hoursExisted(Date.parse(s.createdAt), Date.parse(h), now);
    return {
      serviceId: s.id,
      serviceArn: s.arn,
      serviceName: s.name,
      hour: h,
      requests,
      bytesProcessed: bytes,
      serviceHours,
      estimatedCharge: hourlyCharge(prices, requests, bytes, serviceHours),
    };
  };
  for (const u of rows) {
    const s = services.get(u.serviceId);
    if (s === undefined) continue; // another account's service, or one since deleted
    seen.add(s.id);
    items.push(row(s, u.hour, u.requests, u.bytesProcessed));
  }
  // One hour asked for: idle services still cost their service-hours.
  if (hour !== undefined)
    for (const s of services.values())
      if (!seen.has(s.id) && Date.parse(s.createdAt) < Date.parse(hour) + HOUR_MS)
        items.push(row(s, hour, 0, 0));
  const totals = { requests: 0, bytesProcessed: 0, serviceHours: 0, estimatedCharge: 0 };
  for (const i of items) {
    totals.requests += i.requests;
    totals.bytesProcessed += i.bytesProcessed;
    totals.estimatedCharge += hourlyCharge(prices, i.requests, i.bytesProcessed, 0);
  }
  if (hour !== undefined) {
    for (const i of items) totals.serviceHours += i.serviceHours;
  } else {
    // Every hour of each service's life so far, traffic or not.
    for (const s of services.values())
      totals.serviceHours += Math.max(0, now - Date.parse(s.createdAt)) / HOUR_MS;
  }
  totals.estimatedCharge += totals.serviceHours * prices.perServiceHour;
  return { items, totals, prices };
}
