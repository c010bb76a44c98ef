import { readFileSync } from 'node:fs';
import type {
  HeaderMatch,
  RuleAction,
  Target,
  WeightedTargetGroup,
} from '@aws-sdk/client-vpc-lattice';
import { InvalidArgumentError } from 'commander';

/**
 * Parsers of flag values (text → API member). Each throws commander's InvalidArgumentError,
 * which commander reports as a usage error naming the flag.
 */

/** Splits a comma list, dropping empty entries and surrounding blanks. */
function commaList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `k=v,k2=v2` → `{k: 'v', k2: 'v2'}`; merges with earlier `--tags` occurrences. */
export function parseTags(
  text: string,
  previous: Record<string, string> = {},
): Record<string, string> {
  const out = { ...previous };
  for (const pair of commaList(text)) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new InvalidArgumentError(
        `expected key=value pairs separated by commas, got "${pair}".`,
      );
    const key = pair.slice(0, eq).trim();
    if (key.length > 128)
      throw new InvalidArgumentError(
        `tag key "${key.slice(0, 20)}…" is longer than 128 characters.`,
      );
    // defineProperty: a key such as `__proto__` is a tag like any other.
    Object.defineProperty(out, key, {
      value: pair.slice(eq + 1).trim(),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  if (!Object.keys(out).length)
    throw new InvalidArgumentError('expected at least one key=value pair.');
  return out;
}

/** An integer in [min, max]; a commander argParser factory. */
export function intInRange(min: number, max: number): (text: string) => number {
  return (text: string) => {
    const n = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

/** `tg-1[:weight],tg-2[:weight]` → weighted target groups of a forward action. */
export function parseForward(text: string): WeightedTargetGroup[] {
  const groups = commaList(text).map((entry) => {
    // An ARN contains colons: the weight is only a trailing `:<digits>`.
    const m = /^(.+?)(?::(\d+))?$/.exec(entry)!;
    const targetGroupIdentifier = m[1]!;
    if (m[2] === undefined) return { targetGroupIdentifier };
    const weight = Number(m[2]);
    if (weight > 999)
      throw new InvalidArgumentError(`weight ${weight} of ${targetGroupIdentifier} is above 999.`);
    return { targetGroupIdentifier, weight };
  });
  if (!groups.length)
    throw new InvalidArgumentError('expected tg-id[:weight],… (at least one target group).');
  return groups;
}

/** `404` → a fixed-response status code (100–599). */
export const parseStatusCode = intInRange(100, 599);

/** `id[:port],…` → targets (an IP, instance id, Lambda ARN or ALB ARN, with optional port). */
export function parseTargets(text: string, previous: Target[] = []): Target[] {
  const targets = commaList(text).map((entry): Target => {
    let id: string;
    let portText: string | undefined;
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (v6) {
      // IPv6 targets are written in brackets: `[::1]:8080`.
      [id, portText] = [v6[1]!, v6[2]];
    } else if (entry.startsWith('arn:')) {
      // A Lambda ARN's trailing `:<n>` is a version, never a port (spec §1.5 Targets); other
      // ARNs (ALB) have six segments, so a seventh is a port.
      const parts = entry.split(':');
      const last = parts[parts.length - 1]!;
      if (parts[2] !== 'lambda' && parts.length > 6 && /^\d+$/.test(last)) {
        [id, portText] = [parts.slice(0, -1).join(':'), last];
      } else id = entry;
    } else {
      const m = /^([^:]+)(?::(\d+))?$/.exec(entry);
      if (!m)
        throw new InvalidArgumentError(`"${entry}" is not id[:port] (write IPv6 as [addr]:port).`);
      [id, portText] = [m[1]!, m[2]];
    }
    if (portText === undefined) return { id };
    const port = Number(portText);
    if (port < 1 || port > 65535)
      throw new InvalidArgumentError(`port ${port} of ${id} is not 1–65535.`);
    return { id, port };
  });
  if (!targets.length)
    throw new InvalidArgumentError('expected id[:port],… (at least one target).');
  return [...previous, ...targets];
}

/**
 * `name=value` (exact), `name^=value` (prefix) or `name*=value` (contains) → a header match;
 * repeatable (a rule takes 1–5).
 */
export function parseHeaderMatch(text: string, previous: HeaderMatch[] = []): HeaderMatch[] {
  const m = /^([^=^*]+)(\^|\*)?=(.*)$/.exec(text);
  if (!m || !m[1]!.trim()) {
    throw new InvalidArgumentError(
      'expected name=value (exact), name^=value (prefix) or name*=value (contains).',
    );
  }
  const name = m[1]!.trim();
  const value = m[3]!;
  const match =
    m[2] === '^' ? { prefix: value } : m[2] === '*' ? { contains: value } : { exact: value };
  return [...previous, { name, match } as HeaderMatch];
}

/** A JSON object given inline, or `file://path` / `@path` to read it from a file. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let source = text;
  const file = text.startsWith('file://')
    ? text.slice(7)
    : text.startsWith('@')
      ? text.slice(1)
      : undefined;
  if (file !== undefined) {
    try {
      source = readFileSync(file, 'utf8');
    } catch (err) {
      throw new InvalidArgumentError(`cannot read ${file}: ${(err as Error).message}`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (err) {
    throw new InvalidArgumentError(`not valid JSON (${(err as Error).message}).`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError('expected a JSON object.');
  }
  return value as Record<string, unknown>;
}

/** Action flags a listener or rule command accepts (exactly one may be given). */
export interface ActionFlags {
  json?: Record<string, unknown>;
  forward?: WeightedTargetGroup[];
  fixedResponse?: number;
}

/**
 * The `RuleAction` union from one of the action flags; `undefined` when none is given, an error
 * message when more than one is.
 */
export function ruleActionFrom(flags: ActionFlags): RuleAction | undefined | string {
  const given = [flags.json, flags.forward, flags.fixedResponse].filter((v) => v !== undefined);
  if (given.length > 1)
    return 'give only one of the action flags (JSON, --forward, --fixed-response).';
  if (flags.forward) return { forward: { targetGroups: flags.forward } };
  if (flags.fixedResponse !== undefined)
    return { fixedResponse: { statusCode: flags.fixedResponse } };
  if (flags.json) return flags.json as unknown as RuleAction;
  return undefined;
}
