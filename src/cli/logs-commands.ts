/**
 * `trellis logs tail <group>`: prints the access-log records delivered to a CloudWatch Logs
 * log-group subscription, read from the files `trellis up` writes under its data dir
 * (`<data-dir>/logs/cloudwatch/<group>/`, see config/monitoring-settings.ts). It reads only those
 * files — never the store — so it works while `trellis up` runs.
 */
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cliEnvironment } from '../config/cli-settings.js';
import { CURRENT_LOG_FILE, logGroupDirectory } from '../config/monitoring-settings.js';
import type { CliCommand} from './cli-command.js';
import { createGroup, withExamples } from './cli-command.js';
import { CliFailure, processIo, USAGE_ERROR_EXIT, type CliIo } from './output.js';

/** Options of `logs tail`. */
interface TailOptions {
  dataDir?: string;
  follow?: boolean;
  filter?: string;
  lines?: string;
}

/** The group name of a log-group ARN, or the argument itself. */
function groupName(arg: string): string {
  const m = /^arn:[a-z0-9-]+:logs:[^:]*:\d{12}:log-group:(.+?)(?::\*)?$/.exec(arg);
  return m ? m[1]! : arg;
}

/** Reads `file` from `offset`; returns the complete lines and the offset after the last one. */
async function readFrom(file: string, offset: number): Promise<{ lines: string[]; next: number }> {
  const chunks: Buffer[] = [];
  await new Promise<void>((res, rej) => {
    const s = createReadStream(file, { start: offset });
    s.on('data', (c) => chunks.push(c as Buffer));
    s.on('end', () => res());
    s.on('error', rej);
  });
  const buf = Buffer.concat(chunks);
  const lastNl = buf.lastIndexOf(10);
  if (lastNl < 0) return { lines: [], next: offset };
  const text = buf.subarray(0, lastNl).toString('utf8');
  return { lines: text.split('\n'), next: offset + lastNl + 1 };
}

/** Rotated files (oldest first), then the current one. */
function groupFiles(dir: string): string[] {
  const rotated = readdirSync(dir)
    .filter((f) => f.startsWith('access-') && f.endsWith('.jsonl'))
    .sort();
  const files = rotated.map((f) => join(dir, f));
  if (existsSync(join(dir, CURRENT_LOG_FILE))) files.push(join(dir, CURRENT_LOG_FILE));
  return files;
}

/** Runs `logs tail`; resolves when done (never, with --follow, until `signal` aborts). */
export async function tailLogGroup(
  group: string,
  o: TailOptions,
  io: CliIo = processIo,
  signal?: AbortSignal,
): Promise<void> {
  const env = cliEnvironment();
  const dataDir = resolve(o.dataDir ?? env.dataDir ?? './.trellis');
  const name = groupName(group);
  const dir = logGroupDirectory(dataDir, name);
  const max = o.lines === undefined ? 20 : Number(o.lines);
  if (!Number.isInteger(max) || max < 0)
    throw new CliFailure(
      [`--lines must be a whole number, got "${o.lines}"`],
      'Pass e.g. --lines 50.',
      USAGE_ERROR_EXIT,
    );
  if (!existsSync(dir) && !o.follow)
    throw new CliFailure(
      [`No access logs for log group "${name}" under ${dataDir}.`],
      'Check the group name (CreateAccessLogSubscription destinationArn) and --data-dir; records appear once traffic reaches the subscribed service or network.',
    );
  const keep = (line: string): boolean => line !== '' && (!o.filter || line.includes(o.filter));
  const last: string[] = [];
  if (existsSync(dir)) {
    for (const f of groupFiles(dir)) {
      const { lines } = await readFrom(f, 0);
      for (const l of lines) if (keep(l)) last.push(l);
      if (last.length > max) last.splice(0, last.length - max);
    }
  }
  if (last.length) io.out(`${last.join('\n')}\n`);
  if (!o.follow) return;

  // Follow current.jsonl: new bytes by polling its size; a rotation shows up as a new inode.
  const file = join(dir, CURRENT_LOG_FILE);
  let ino = -1;
  let offset = 0;
  try {
    const s = statSync(file);
    ino = s.ino;
    offset = s.size;
  } catch {
    // not there yet
  }
  while (!signal?.aborted) {
    await new Promise((r) => setTimeout(r, 250));
    let s;
    try {
      s = statSync(file);
    } catch {
      continue;
    }
    if (s.ino !== ino) {
      ino = s.ino;
      offset = 0;
    }
    if (s.size < offset) offset = 0;
    if (s.size === offset) continue;
    const { lines, next } = await readFrom(file, offset);
    offset = next;
    const out = lines.filter(keep);
    if (out.length) io.out(`${out.join('\n')}\n`);
  }
}

/** `trellis logs …`: access logs delivered to CloudWatch Logs log-group subscriptions. */
export function logsCommands(): CliCommand {
  const group = createGroup(
    'logs',
    'Access logs (spec §4.1 records) that `trellis up` delivered to log-group subscriptions.',
  );
  const tail = withExamples(
    group
      .command('tail <log-group>')
      .description(
        'Print the latest records of a log group (name or ARN); --follow keeps printing.',
      )
      .option(
        '--data-dir <dir>',
        'data dir of the trellis up that writes the logs (env TRELLIS_DATA_DIR)',
      )
      .option('-f, --follow', 'keep printing new records')
      .option('--filter <text>', 'only records containing this text (e.g. a request id or "502")')
      .option('-n, --lines <n>', 'how many existing records to print first (default 20)'),
    'trellis logs tail /lattice/prod --follow',
    'trellis logs tail /lattice/prod --filter TargetConnectionError -n 100',
  );
  tail.action(async (logGroup: string, opts: TailOptions) => {
    await tailLogGroup(logGroup, opts, processIo);
  });
  return group;
}
