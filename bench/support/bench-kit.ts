/**
 * Shared pieces of the benchmark scripts: child-process bookkeeping (every process a bench starts
 * is killed on exit and on SIGINT), tool checks, loopback addresses, statistics and result files.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/** Repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');
/** Where bench scripts leave machine-readable results and profiles (git-ignored). */
export const OUT_DIR = join(ROOT, 'bench/out');

const children = new Set<ChildProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const killAll = (): void => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping the processes this benchmark started`);
      killAll();
      process.exit(130);
    });
  }
}

/** Remembers a child so that it is killed (by its pid) when this process exits or is interrupted. */
export function track(child: ChildProcess): ChildProcess {
  hookExit();
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** `spawn` + `track`. */
export function spawnTracked(cmd: string, args: string[], options: SpawnOptions): ChildProcess {
  return track(spawn(cmd, args, options));
}

/** Sends `signal`, waits up to `graceMs`, then SIGKILLs; resolves when the child has exited. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 5000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Also makes sure Trellis processes started through test/support are stopped on Ctrl-C. */
export function trackTrellis<T extends { child: ChildProcess }>(proc: T): T {
  track(proc.child);
  return proc;
}

/** Exits with the install command when a required system tool is missing. */
export function requireTools(tools: { bin: string; versionArgs: string[] }[]): void {
  const missing = tools.filter((t) => spawnSync(t.bin, t.versionArgs).error !== undefined);
  if (missing.length === 0) return;
  console.error(`missing: ${missing.map((t) => t.bin).join(', ')}`);
  console.error('install them (Debian/Ubuntu, as root):');
  console.error('  apt-get update && apt-get install -y nginx-light wrk');
  process.exit(2);
}

/** First line of a tool's version output (nginx prints to stderr). */
export function toolVersion(bin: string, args: string[]): string {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  if (r.error) return 'not installed';
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? '';
}

/** A random 127.x.y.z address, so that fixed ports do not collide with other suites on the machine. */
export function randomLoopback(): string {
  const b = (): number => 1 + Math.floor(Math.random() * 250);
  return `127.${b()}.${b()}.${b()}`;
}

/** A port that is free on `host` right now (bind to 0, read, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, host, () => {
      const address = s.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      s.close(() => res(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The q-quantile (0..1) of numbers, nearest-rank on a sorted copy. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export const median = (values: number[]): number => quantile(values, 0.5);

/** Fixed-point formatting helper for tables. */
export function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

/** One figure a bench measured, with its target when the issues set one. */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  /** e.g. `≥ 0.5` or `< 1 ms`; absent for context-only figures. */
  target?: string;
  /** Whether the figure meets its target (absent when there is none). */
  pass?: boolean;
  note?: string;
}

/** What a bench script's `run()` returns; `bench/run.ts` tabulates it into RESULTS.md. */
export interface BenchResult {
  bench: string;
  /** Commands a reader can re-run, and the load commands used inside. */
  commands: string[];
  figures: BenchFigure[];
  /** Free-form lines (per-run raw numbers, profile hot spots). */
  details: string[];
}

/** Writes `bench/out/<name>.json` so results outlive the run. */
export function saveResult(result: BenchResult): string {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `${result.bench}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  return file;
}

/** Prints a result as an aligned list. */
export function printResult(result: BenchResult): void {
  console.log(`\n== ${result.bench} ==`);
  for (const f of result.figures) {
    const verdict = f.pass === undefined ? '' : f.pass ? '  ok' : '  MISSES';
    console.log(
      `${f.name.padEnd(58)} ${fmt(f.value, f.value >= 100 ? 0 : 2).padStart(10)} ${f.unit.padEnd(6)}${f.target ? ` target ${f.target}` : ''}${verdict}${f.note ? `  (${f.note})` : ''}`,
    );
  }
}

/** Logs a progress line with elapsed seconds. */
export function progress(started: number, message: string): void {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${message}`);
}
