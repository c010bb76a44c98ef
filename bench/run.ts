/**
 * `npm run bench [-- name …]`: runs every benchmark script in bench/ (each as its own child
 * process, one at a time, so they never compete for the CPU), shows their progress, prints a
 * summary table and writes bench/RESULTS.md with the machine, versions, commands and figures.
 *
 * Scripts that produce a `BenchResult` (they export `run()` and save bench/out/<name>.json) are
 * tabulated; the others (micro-benchmarks) have their output quoted. Arguments select scripts
 * whose file name contains one of them (e.g. `npm run bench -- control`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  fmt,
  OUT_DIR,
  ROOT,
  spawnTracked,
  toolVersion,
  type BenchResult,
} from './support/bench-kit.js';

const BENCH_DIR = join(ROOT, 'bench');
/** Upper bound per script (the seeded benches seed their store on the first run). */
const SCRIPT_TIMEOUT_MS = 90 * 60_000;

interface ScriptRun {
  file: string;
  ok: boolean;
  seconds: number;
  output: string;
  result?: BenchResult;
}

/** bench/*.ts and bench/<folder>/*.ts (not support/ or out/), relative to bench/. */
function scripts(filters: string[]): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(BENCH_DIR, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts') && entry.name !== 'run.ts')
      found.push(entry.name);
    if (entry.isDirectory() && !['support', 'out', 'node_modules'].includes(entry.name))
      for (const f of readdirSync(join(BENCH_DIR, entry.name)))
        if (f.endsWith('.ts') && !f.endsWith('.test.ts')) found.push(`${entry.name}/${f}`);
  }
  return found
    .filter((f) => !f.endsWith('.test.ts'))
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort();
}

function runScript(file: string): Promise<ScriptRun> {
  const started = Date.now();
  const name = file.replace(/\.ts$/, '').replace(/\//g, '-');
  rmSync(join(OUT_DIR, `${name}.json`), { force: true });
  const child = spawnTracked(process.execPath, ['--import', 'tsx', join(BENCH_DIR, file)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onData = (d: Buffer): void => {
    const text = d.toString();
    output += text;
    for (const line of text.split('\n'))
      if (line.trim() !== '' && !isSdkNoise(line)) process.stdout.write(`  [${name}] ${line}\n`);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const timer = setTimeout(() => child.kill('SIGINT'), SCRIPT_TIMEOUT_MS);
  return new Promise((res) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      const json = join(OUT_DIR, `${name}.json`);
      const result = existsSync(json)
        ? (JSON.parse(readFileSync(json, 'utf8')) as BenchResult)
        : undefined;
      res({
        file,
        ok: code === 0,
        seconds: (Date.now() - started) / 1000,
        output,
        ...(result ? { result } : {}),
      });
    });
  });
}

/** The AWS SDK's Node-version notice is printed by every SDK-using process; not bench output. */
function isSdkNoise(line: string): boolean {
  return /NodeVersionSupportWarning|versions published after|will require node|To continue receiving|and security updates|More information can be found|--trace-warnings|^\s*$/.test(
    line,
  );
}

function machine(): string[] {
  const sh = (cmd: string, args: string[]): string =>
    (spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '').trim();
  const model = cpus()[0]?.model ?? 'unknown';
  return [
    `- CPU: ${model}; \`nproc\` = ${sh('nproc', [])}`,
    `- memory (\`free -h\`):\n\n\`\`\`\n${sh('free', ['-h'])}\n\`\`\`\n`,
    `- kernel: ${sh('uname', ['-sr'])}`,
    `- load average at start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(
        ' ',
      )} (shared machine: other suites run concurrently, so compare ratios, not absolutes)`,
    `- Node ${process.version}; ${toolVersion('nginx', ['-v'])}; ${toolVersion('wrk', ['-v'])}`,
    `- Trellis commit: ${sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])}${sh('git', ['-C', ROOT, 'status', '--porcelain', 'src']) ? ' (with uncommitted changes in src/)' : ''}`,
  ];
}

function table(runs: ScriptRun[]): string[] {
  const lines = [
    '| bench | figure | value | target | verdict |',
    '| --- | --- | ---: | --- | --- |',
  ];
  for (const r of runs) {
    if (!r.result) {
      lines.push(`| ${r.file} | (output quoted below) | | | ${r.ok ? 'ran' : '**failed**'} |`);
      continue;
    }
    for (const f of r.result.figures) {
      const value = `${fmt(f.value, Math.abs(f.value) >= 100 ? 0 : 2)} ${f.unit}`;
      const verdict = f.pass === undefined ? '' : f.pass ? 'meets' : '**misses**';
      lines.push(
        `| ${r.result.bench} | ${f.name}${f.note ? ` (${f.note})` : ''} | ${value} | ${f.target ?? ''} | ${verdict} |`,
      );
    }
  }
  return lines;
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const list = scripts(filters);
  if (list.length === 0) {
    console.error(`no bench scripts match ${filters.join(', ')}`);
    process.exit(2);
  }
  const header = machine();
  console.log(`running ${list.length} benchmark scripts: ${list.join(', ')}`);
  const runs: ScriptRun[] = [];
  for (const [i, file] of list.entries()) {
    console.log(`\n[${i + 1}/${list.length}] ${file}`);
    const r = await runScript(file);
    runs.push(r);
    console.log(
      `[${i + 1}/${list.length}] ${file}: ${r.ok ? 'done' : 'FAILED'} in ${fmt(r.seconds, 0)} s`,
    );
  }
  const summary = table(runs);
  console.log(`\n${summary.join('\n')}`);

  const md: string[] = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench${filters.length ? ` -- ${filters.join(' ')}` : ''}\` on ${new Date().toISOString()}. See bench/README.md for what each figure means and the targets.`,
    '',
    '## Machine',
    '',
    ...header,
    `- load average at end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
    '',
    '## Summary',
    '',
    ...summary,
    '',
  ];
  for (const r of runs) {
    md.push(`## ${r.file} (${r.ok ? `${fmt(r.seconds, 0)} s` : 'FAILED'})`, '');
    if (r.result) {
      md.push('Commands:', '', ...r.result.commands.map((c) => `- \`${c}\``), '');
      md.push('```', ...r.result.details, '```', '');
    } else {
      const out = r.output
        .split('\n')
        .filter((l) => !isSdkNoise(l))
        .slice(-60);
      md.push(`Command: \`npx tsx bench/${r.file}\``, '', '```', ...out, '```', '');
    }
  }
  writeFileSync(join(BENCH_DIR, 'RESULTS.md'), md.join('\n'));
  console.log('\nwrote bench/RESULTS.md');
  process.exit(runs.every((r) => r.ok) ? 0 : 1);
}

await main();
