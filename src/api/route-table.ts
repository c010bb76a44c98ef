import type { HttpMethod, RestOperation } from './rest-operation.js';

interface CompiledRoute {
  operation: RestOperation;
  /** Literal segment, or `null` for a `{label}` with its name in `labels`. */
  segments: (string | null)[];
  labels: string[];
}

export interface RouteMatch {
  operation: RestOperation;
  params: Record<string, string>;
}

/** Matches `METHOD /raw/path` to an operation; routes compiled once (Hono-style build-then-match). */
export class RouteTable {
  private readonly byMethod = new Map<string, CompiledRoute[]>();
  /** Paths that exist under another method, for 405-style answers. */
  private readonly all: CompiledRoute[] = [];

  constructor(operations: readonly RestOperation[]) {
    for (const operation of operations) {
      const segments: (string | null)[] = [];
      const labels: string[] = [];
      for (const seg of operation.path.split('/').slice(1)) {
        const m = /^\{(\w+)\}$/.exec(seg);
        if (m) {
          segments.push(null);
          labels.push(m[1]!);
        } else segments.push(seg);
      }
      const route = { operation, segments, labels };
      let list = this.byMethod.get(operation.method);
      if (!list) this.byMethod.set(operation.method, (list = []));
      list.push(route);
      this.all.push(route);
    }
    // Literal segments win over labels when both match (e.g. `/servicenetworks` vs `/{id}`).
    for (const list of this.byMethod.values()) {
      list.sort((a, b) => literalScore(b) - literalScore(a));
    }
  }

  /** Returns the match, `'method'` when the path exists under another method, or undefined. */
  match(method: string, rawPath: string): RouteMatch | 'method' | undefined {
    const parts = rawPath.split('/').slice(1);
    if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
    const list = this.byMethod.get(method as HttpMethod) ?? [];
    for (const route of list) {
      const params = matchRoute(route, parts);
      if (params) return { operation: route.operation, params };
    }
    for (const route of this.all) if (matchRoute(route, parts)) return 'method';
    return undefined;
  }
}

function literalScore(r: CompiledRoute): number {
  return r.segments.filter((s) => s !== null).length;
}

function matchRoute(route: CompiledRoute, parts: string[]): Record<string, string> | undefined {
  if (parts.length !== route.segments.length) return undefined;
  const params: Record<string, string> = {};
  let label = 0;
  for (let i = 0; i < parts.length; i++) {
    const seg = route.segments[i];
    const part = parts[i]!;
    if (seg === null) {
      if (part === '') return undefined;
      let value: string;
      try {
        value = decodeURIComponent(part);
      } catch {
        return undefined;
      }
      params[route.labels[label++]!] = value;
    } else if (seg !== part) return undefined;
  }
  return params;
}
