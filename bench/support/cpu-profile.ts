/**
 * Summarises a V8 `.cpuprofile` (written by `node --cpu-prof`): self time by function, inclusive
 * time by function, and self time by area (Trellis data plane, undici, Node HTTP, GC, idle, …).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  startTime: number;
  endTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  name: string;
  /** Percent of the busy (non-idle) samples. */
  percent: number;
}

export interface ProfileSummary {
  busySamples: number;
  idlePercent: number;
  selfTop: HotSpot[];
  inclusiveTop: HotSpot[];
  areas: HotSpot[];
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const src = url.indexOf('/src/');
  if (src >= 0 && !url.includes('node_modules')) return url.slice(src + 1);
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  return url.replace(/^file:\/\//, '');
}

/** Which part of the system a frame belongs to (for the "where the time goes" table). */
export function areaOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)') return 'V8/native (program)';
  if (url.includes('/src/dataplane/')) return 'Trellis data plane (src/dataplane)';
  if (url.includes('/src/')) return 'Trellis other (API, store, snapshot)';
  if (url.includes('node_modules/undici')) return 'undici (upstream client)';
  if (url.includes('node_modules/pino') || url.includes('thread-stream')) return 'pino (logging)';
  if (url.includes('node_modules/')) return 'other npm packages';
  if (/node:_http|node:http|internal\/http/.test(url)) return 'Node http server (node:_http_*)';
  if (/node:net|internal\/stream_base|internal\/streams|node:stream/.test(url))
    return 'Node net/streams';
  if (url.startsWith('node:')) return 'Node other (timers, events, …)';
  if (url === '') return `native: ${fn || '(anonymous)'}`.slice(0, 60);
  return 'other';
}

/**
 * Only samples taken between `fromEndMs` and `toEndMs` milliseconds before the profile ended (the
 * process exited): lets a summary cover the load run and not start-up or shutdown.
 */
export interface ProfileWindow {
  fromEndMs: number;
  toEndMs: number;
}

/** Reads and summarises one profile; `top` rows per table. */
export function summariseProfile(file: string, top = 15, window?: ProfileWindow): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  if (window !== undefined) {
    // Sample times are startTime + running sum of timeDeltas (µs).
    const keep: number[] = [];
    let t = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i] ?? 0;
      const beforeEndMs = (profile.endTime - t) / 1000;
      if (beforeEndMs <= window.fromEndMs && beforeEndMs >= window.toEndMs)
        keep.push(profile.samples[i]!);
    }
    profile.samples = keep;
  }
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const key = (n: ProfileNode): string => {
    const f = n.callFrame;
    const where = shortUrl(f.url);
    return `${f.functionName || '(anonymous)'}${where ? ` ${where}:${f.lineNumber + 1}` : ''}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const areas = new Map<string, number>();
  let idle = 0;
  for (const id of profile.samples) {
    const n = byId.get(id);
    if (n === undefined) continue;
    if (n.callFrame.functionName === '(idle)') {
      idle++;
      continue;
    }
    const k = key(n);
    self.set(k, (self.get(k) ?? 0) + 1);
    const area = areaOf(n.callFrame.url, n.callFrame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + 1);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const node = byId.get(cur)!;
      if (node.callFrame.functionName === '(root)') break;
      const nk = key(node);
      if (seen.has(nk)) continue;
      seen.add(nk);
      inclusive.set(nk, (inclusive.get(nk) ?? 0) + 1);
    }
  }
  const busy = profile.samples.length - idle;
  const rank = (m: Map<string, number>, n: number): HotSpot[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, count]) => ({ name, percent: (100 * count) / Math.max(1, busy) }));
  return {
    busySamples: busy,
    idlePercent: (100 * idle) / Math.max(1, profile.samples.length),
    selfTop: rank(self, top),
    inclusiveTop: rank(inclusive, top),
    areas: rank(areas, 20),
  };
}
