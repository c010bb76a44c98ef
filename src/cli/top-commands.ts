/**
 * `trellis top`: a live view of per-service request rate, error rates (4xx, 5xx) and latency
 * (p50, p99), computed from two scrapes of the API's `/metrics` (spec §4.2 metrics: service
 * `TotalRequestCount`, `HTTPCode_4XX/5XX_Count`, `RequestTime`) an interval apart. Rates and
 * percentiles are of that interval only, as a dashboard over CloudWatch's per-minute sums would be.
 */
import { ListServicesCommand, ListServiceNetworksCommand } from '@aws-sdk/client-vpc-lattice';
import { InvalidArgumentError } from 'commander';
import {
  histogramQuantile,
  parsePrometheusText,
  type PrometheusExposition,
} from '../model/prometheus-text.js';
import { clientAction, CliCommand, withExamples, type CommandContext } from './cli-command.js';
import { CliFailure, renderList, type Column } from './output.js';

const SERVICE_PREFIX = 'trellis_lattice_service_';

/** One row of `trellis top` (also the `--output json` shape). */
export interface TopRow {
  serviceId: string;
  serviceName: string;
  serviceNetworkId: string;
  serviceNetworkName: string;
  /** Requests in the interval. */
  requests: number;
  requestsPerSecond: number;
  /** Share of the interval's requests answered 4xx / 5xx (0…1). */
  clientErrorRate: number;
  serverErrorRate: number;
  /** RequestTime percentiles of the interval (ms), null without requests. */
  p50Ms: number | null;
  p99Ms: number | null;
}

/** The counts of one (service, network) series in one scrape. */
interface SeriesCounts {
  total: number;
  c4xx: number;
  c5xx: number;
  buckets: Map<number, number>;
}

/** The service series of a scrape, keyed `svc-…|sn-…`. */
function seriesOf(e: PrometheusExposition): Map<string, SeriesCounts> {
  const out = new Map<string, SeriesCounts>();
  const get = (labels: Record<string, string>): SeriesCounts | undefined => {
    const svc = labels.service;
    const net = labels.service_network;
    if (svc === undefined || net === undefined) return undefined;
    const key = `${svc}|${net}`;
    let s = out.get(key);
    if (s === undefined) out.set(key, (s = { total: 0, c4xx: 0, c5xx: 0, buckets: new Map() }));
    return s;
  };
  for (const sample of e.samples) {
    if (!sample.name.startsWith(SERVICE_PREFIX)) continue;
    const metric = sample.name.slice(SERVICE_PREFIX.length);
    const s = get(sample.labels);
    if (s === undefined) continue;
    if (metric === 'total_request_count') s.total = sample.value;
    else if (metric === 'httpcode_4xx_count') s.c4xx = sample.value;
    else if (metric === 'httpcode_5xx_count') s.c5xx = sample.value;
    else if (metric === 'request_time_bucket' && sample.labels.le !== undefined)
      s.buckets.set(
        sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le),
        sample.value,
      );
  }
  return out;
}

/**
 * The rows of an interval: the difference of two scrapes `seconds` apart. A series whose counts
 * went down (the process restarted) counts from zero.
 */
export function topRows(
  before: PrometheusExposition,
  after: PrometheusExposition,
  seconds: number,
  names: { services: Map<string, string>; networks: Map<string, string> },
): TopRow[] {
  const old = seriesOf(before);
  const rows: TopRow[] = [];
  for (const [key, now] of seriesOf(after)) {
    const [serviceId, networkId] = key.split('|') as [string, string];
    let prev = old.get(key);
    if (prev !== undefined && prev.total > now.total) prev = undefined;
    const requests = now.total - (prev?.total ?? 0);
    const buckets = [...now.buckets].map(([le, count]) => ({
      le,
      count: count - (prev?.buckets.get(le) ?? 0),
    }));
    const p = (q: number): number | null => {
      const v = histogramQuantile(q, buckets);
      return Number.isNaN(v) ? null : Math.round(v * 10) / 10;
    };
    rows.push({
      serviceId,
      serviceName: names.services.get(serviceId) ?? '-',
      serviceNetworkId: networkId,
      serviceNetworkName: names.networks.get(networkId) ?? '-',
      requests,
      requestsPerSecond: Math.round((requests / seconds) * 100) / 100,
      clientErrorRate: requests > 0 ? (now.c4xx - (prev?.c4xx ?? 0)) / requests : 0,
      serverErrorRate: requests > 0 ? (now.c5xx - (prev?.c5xx ?? 0)) / requests : 0,
      p50Ms: p(0.5),
      p99Ms: p(0.99),
    });
  }
  // Busiest first; ties by service id so the order is stable between refreshes.
  return rows.sort((a, b) => b.requests - a.requests || a.serviceId.localeCompare(b.serviceId));
}

const pct = (r: number): string => `${(r * 100).toFixed(1)}%`;
const ms = (v: number | null): string => (v === null ? '-' : v.toFixed(1));

const COLUMNS: Column<TopRow>[] = [
  { header: 'SERVICE', value: (r) => r.serviceId },
  { header: 'NAME', value: (r) => r.serviceName },
  {
    header: 'NETWORK',
    value: (r) => (r.serviceNetworkName !== '-' ? r.serviceNetworkName : r.serviceNetworkId),
  },
  { header: 'REQ/S', value: (r) => r.requestsPerSecond.toFixed(2) },
  { header: '4XX', value: (r) => pct(r.clientErrorRate) },
  { header: '5XX', value: (r) => pct(r.serverErrorRate) },
  { header: 'P50 MS', value: (r) => ms(r.p50Ms) },
  { header: 'P99 MS', value: (r) => ms(r.p99Ms) },
];

interface TopOptions {
  interval: number;
  once?: boolean;
}

/** Reads and parses `<endpoint>/metrics` (a public route of the API, no signature needed). */
async function scrape(endpoint: string): Promise<PrometheusExposition> {
  let res: Response;
  try {
    res = await fetch(`${endpoint}/metrics`);
  } catch (err) {
    throw new CliFailure(
      [`Could not reach ${endpoint}/metrics: ${(err as Error).message}.`],
      'Check that `trellis up` runs (or --endpoint / TRELLIS_ENDPOINT).',
    );
  }
  const text = await res.text();
  if (res.status === 404)
    throw new CliFailure(
      [`${endpoint} serves no /metrics: metrics are off in that trellis up.`],
      'Restart it without TRELLIS_METRICS=0.',
    );
  if (!res.ok)
    throw new CliFailure(
      [`${endpoint}/metrics answered HTTP ${res.status}.`],
      'Look at the trellis up log.',
    );
  try {
    return parsePrometheusText(text);
  } catch (err) {
    throw new CliFailure(
      [`${endpoint}/metrics is not Prometheus text: ${(err as Error).message}`],
      'Point --endpoint at a Trellis API.',
    );
  }
}

/** Service and network names by id, from the API (best effort: ids alone when listing fails). */
async function namesOf(
  ctx: CommandContext<TopOptions>,
): Promise<{ services: Map<string, string>; networks: Map<string, string> }> {
  const services = new Map<string, string>();
  const networks = new Map<string, string>();
  try {
    let token: string | undefined;
    do {
      const page = await ctx.lattice().send(new ListServicesCommand({ nextToken: token }));
      for (const s of page.items ?? []) if (s.id && s.name) services.set(s.id, s.name);
      token = page.nextToken;
    } while (token);
    do {
      const page = await ctx.lattice().send(new ListServiceNetworksCommand({ nextToken: token }));
      for (const n of page.items ?? []) if (n.id && n.name) networks.set(n.id, n.name);
      token = page.nextToken;
    } while (token);
  } catch {
    // Names are a convenience; the metrics alone are enough to show the table.
  }
  return { services, networks };
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

function seconds(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0.2 || n > 3600)
    throw new InvalidArgumentError('expected seconds between 0.2 and 3600.');
  return n;
}

/** `trellis top [--interval s] [--once]`. */
export function topCommands(): CliCommand {
  const cmd = withExamples(
    new CliCommand('top')
      .description(
        "Live per-service request rate, 4xx/5xx rates and p50/p99 latency, from the API's /metrics; refreshed every --interval seconds (Ctrl-C stops).",
      )
      .option(
        '-i, --interval <seconds>',
        'refresh interval (the window rates are over)',
        seconds,
        2,
      )
      .option('--once', 'print one table (one interval) and exit; with -o json: one array'),
    'trellis top',
    'trellis top --interval 5',
    'trellis top --once --output json',
  );
  clientAction<TopOptions>(cmd, async (ctx) => {
    const endpoint = ctx.config.endpoint;
    const intervalMs = ctx.opts.interval * 1000;
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      let names = await namesOf(ctx);
      let before = await scrape(endpoint);
      let at = performance.now();
      const live = ctx.output === 'table' && !ctx.opts.once && process.stdout.isTTY === true;
      while (!stop.signal.aborted) {
        await sleep(intervalMs, stop.signal);
        if (stop.signal.aborted) break;
        const after = await scrape(endpoint);
        const now = performance.now();
        const rows = topRows(before, after, (now - at) / 1000, names);
        // A service that appeared since the names were read: read them again.
        if (rows.some((r) => r.serviceId !== '-' && !names.services.has(r.serviceId)))
          names = await namesOf(ctx);
        for (const r of rows) {
          r.serviceName = names.services.get(r.serviceId) ?? r.serviceName;
          r.serviceNetworkName = names.networks.get(r.serviceNetworkId) ?? r.serviceNetworkName;
        }
        if (ctx.output === 'json') {
          // --once: one array; live: one array per line (JSON lines) for a script to follow.
          ctx.io.out(
            ctx.opts.once ? renderList(rows, COLUMNS, 'json') : `${JSON.stringify(rows)}\n`,
          );
        } else {
          const head = `trellis top — ${endpoint} — ${ctx.opts.interval}s window — ${new Date().toISOString().slice(11, 19)} UTC\n`;
          const body = rows.length ? renderList(rows, COLUMNS, 'table') : 'No traffic yet.\n';
          ctx.io.out(`${live ? '\x1b[H\x1b[2J' : ''}${head}${body}${live ? '' : '\n'}`);
        }
        if (ctx.opts.once) break;
        before = after;
        at = now;
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
  return cmd;
}
