import { clientAction, CliCommand, withExamples } from './cli-command.js';
import type { Column } from './output.js';

/** One row of GetUsage (src/api/operations/usage-operations.ts). */
interface UsageRow {
  serviceId: string;
  serviceName: string;
  hour: string;
  requests: number;
  bytesProcessed: number;
  serviceHours: number;
  estimatedCharge: number;
}

interface UsageReport {
  items: UsageRow[];
  totals: {
    requests: number;
    bytesProcessed: number;
    serviceHours: number;
    estimatedCharge: number;
  };
  prices: {
    perServiceHour: number;
    perGbProcessed: number;
    perMillionRequests: number;
    freeRequestsPerHour: number;
  };
}

const gb = (bytes: number): string => (bytes / 1e9).toFixed(6);
const usd = (n: number): string => `$${n.toFixed(4)}`;

const COLUMNS: Column<UsageRow>[] = [
  { header: 'HOUR (UTC)', value: (r) => r.hour },
  { header: 'SERVICE', value: (r) => r.serviceId },
  { header: 'NAME', value: (r) => r.serviceName },
  { header: 'REQUESTS', value: (r) => String(r.requests) },
  { header: 'GB', value: (r) => gb(r.bytesProcessed) },
  { header: 'SERVICE-HOURS', value: (r) => r.serviceHours.toFixed(3) },
  { header: 'EST. CHARGE', value: (r) => usd(r.estimatedCharge) },
];

/** `trellis usage [--hour …] [--service …]`: metered usage and its estimated charge. */
export function usageCommands(): CliCommand {
  const cmd = withExamples(
    new CliCommand('usage')
      .description(
        'Requests, GB processed and service-hours per service and hour, with the estimated charge under the configured price list.',
      )
      .option('--hour <YYYY-MM-DDTHH>', 'one UTC hour, e.g. 2026-11-26T11')
      .option('--service <id-or-arn>', 'one service'),
    'trellis usage',
    'trellis usage --hour 2026-11-26T11 --service svc-0123456789abcdef0',
  );
  clientAction<{ hour?: string; service?: string }>(cmd, async (ctx) => {
    const report = await ctx.trellis().request<UsageReport>('GET', '/_trellis/usage', {
      query: { hour: ctx.opts.hour, serviceIdentifier: ctx.opts.service },
    });
    if (ctx.output === 'json') {
      ctx.printResource(report);
      return;
    }
    ctx.printList(report.items, COLUMNS);
    const t = report.totals;
    const p = report.prices;
    ctx.io.out(
      `Total: ${t.requests} requests, ${gb(t.bytesProcessed)} GB, ${t.serviceHours.toFixed(3)} service-hours, estimated ${usd(t.estimatedCharge)}\n` +
        `Prices: ${usd(p.perServiceHour)}/service-hour, ${usd(p.perGbProcessed)}/GB, ${usd(p.perMillionRequests)}/1M requests beyond ${p.freeRequestsPerHour} per service-hour (configurable; prices differ by region)\n`,
    );
  });
  return cmd;
}
