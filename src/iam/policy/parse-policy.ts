/**
 * Policy grammar (spec §2): JSON text → normalised `PolicyDocument`, or every problem with a path.
 * The control plane calls this to validate PutAuthPolicy / PutResourcePolicy / IAM Put*Policy
 * documents; the data plane compiles the result once per policy.
 */
import { FIXED_LIMITS } from '../../model/quotas.js';
import { parseOperatorName, VALID_OPERATORS_TEXT } from './condition-operators.js';
import {
  isBase64Value,
  isBoolValue,
  parseDateValue,
  parseNumericValue,
} from './condition-values.js';
import { parseCidr } from './ip-address.js';
import { PolicyValidationError, type PolicyViolation } from './policy-errors.js';
import type {
  ParsePolicyOptions,
  PolicyCondition,
  PolicyDocument,
  PolicyPrincipal,
  PolicyStatement,
  PolicyVersion,
} from './policy-types.js';

const TOP_LEVEL_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);
const VERSIONS = new Set<string>(['2012-10-17', '2008-10-17']);

const ACCOUNT_ID_RE = /^\d{12}$/;
/** `arn:aws:iam::123456789012:root|user/…|role/…` and STS session / federated-user ARNs. */
const AWS_PRINCIPAL_ARN_RE =
  /^arn:aws[a-z-]*:(iam::\d{12}:(root|user\/.+|role\/.+)|sts::\d{12}:(assumed-role\/[^/]+\/.+|federated-user\/.+))$/;
const ACTION_RE = /^[a-zA-Z0-9-]+:[a-zA-Z0-9*?_-]+$/;
const SID_RE = /^[a-zA-Z0-9 _.-]*$/;
const CONDITION_KEY_RE = /^[a-zA-Z0-9.-]+:[^\s]+$/;

class Collector {
  readonly violations: PolicyViolation[] = [];
  add(path: string, message: string): void {
    this.violations.push({ path, message: path ? `${message} (at ${path})` : message });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** A string or a non-empty list of strings → list; reports and returns undefined otherwise. */
function stringList(v: unknown, path: string, name: string, out: Collector): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) {
    if (v.length === 0) {
      out.add(path, `${name} must not be an empty list`);
      return undefined;
    }
    const list: string[] = [];
    v.forEach((item, i) => {
      if (typeof item === 'string') list.push(item);
      else out.add(`${path}[${i}]`, `${name} entries must be strings, got ${describe(item)}`);
    });
    return list.length === v.length ? list : undefined;
  }
  out.add(path, `${name} must be a string or a list of strings, got ${describe(v)}`);
  return undefined;
}

function parsePrincipal(
  v: unknown,
  path: string,
  name: string,
  out: Collector,
): PolicyPrincipal | undefined {
  if (v === '*') return '*';
  if (!isObject(v)) {
    out.add(
      path,
      `${name} must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:root"}`,
    );
    return undefined;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) {
    out.add(path, `${name} must name at least one principal`);
    return undefined;
  }
  const result: Record<string, string[]> = {};
  let ok = true;
  for (const type of keys) {
    const p = `${path}.${type}`;
    if (!PRINCIPAL_TYPES.has(type)) {
      out.add(
        p,
        `Unknown principal type "${type}"; expected AWS, Service, Federated or CanonicalUser`,
      );
      ok = false;
      continue;
    }
    const values = stringList(v[type], p, `${name}.${type}`, out);
    if (values === undefined) {
      ok = false;
      continue;
    }
    values.forEach((value, i) => {
      const vp = values.length > 1 || Array.isArray(v[type]) ? `${p}[${i}]` : p;
      if (type === 'AWS') {
        if (value !== '*' && !ACCOUNT_ID_RE.test(value) && !AWS_PRINCIPAL_ARN_RE.test(value)) {
          out.add(
            vp,
            `Invalid principal "${value}": expected "*", a 12-digit account id, or an IAM user, role, root or STS session ARN`,
          );
          ok = false;
        } else if (value !== '*' && /[*?]/.test(value)) {
          out.add(
            vp,
            `Invalid principal "${value}": wildcards are only allowed as the whole value "*"`,
          );
          ok = false;
        }
      } else if (value.length === 0) {
        out.add(vp, `${name}.${type} values must not be empty`);
        ok = false;
      }
    });
    result[type] = values;
  }
  return ok ? (result as PolicyPrincipal) : undefined;
}

function checkActions(list: readonly string[], path: string, name: string, out: Collector): void {
  list.forEach((a, i) => {
    if (a === '*' || ACTION_RE.test(a)) return;
    out.add(
      list.length > 1 ? `${path}[${i}]` : path,
      `Invalid ${name} "${a}": expected "*" or "service:action" (e.g. vpc-lattice-svcs:Invoke)`,
    );
  });
}

function checkResources(list: readonly string[], path: string, name: string, out: Collector): void {
  list.forEach((r, i) => {
    // spec §2.3: Lattice also accepts patterns that start with a wildcard, e.g. "*/rates".
    if (r.startsWith('arn:') || r.startsWith('*')) return;
    out.add(
      list.length > 1 ? `${path}[${i}]` : path,
      `Invalid ${name} "${r}": expected "*", a pattern starting with "*", or an ARN`,
    );
  });
}

function conditionValues(v: unknown, path: string, out: Collector): string[] | undefined {
  const one = (x: unknown, p: string): string | undefined => {
    if (typeof x === 'string') return x;
    if (typeof x === 'number' && Number.isFinite(x)) return String(x);
    if (typeof x === 'boolean') return x ? 'true' : 'false';
    out.add(p, `Condition values must be strings, numbers or booleans, got ${describe(x)}`);
    return undefined;
  };
  if (Array.isArray(v)) {
    if (v.length === 0) {
      out.add(path, 'Condition value list must not be empty');
      return undefined;
    }
    const list = v.map((x, i) => one(x, `${path}[${i}]`));
    return list.every((x) => x !== undefined) ? (list as string[]) : undefined;
  }
  const single = one(v, path);
  return single === undefined ? undefined : [single];
}

function parseCondition(v: unknown, path: string, out: Collector): PolicyCondition | undefined {
  if (!isObject(v)) {
    out.add(path, `Condition must be an object of operator → {key: value}, got ${describe(v)}`);
    return undefined;
  }
  const result: Record<string, Record<string, string[]>> = {};
  let ok = true;
  for (const opName of Object.keys(v)) {
    const p = `${path}.${opName}`;
    const parsed = parseOperatorName(opName);
    if (parsed === undefined) {
      out.add(p, `Unknown condition operator "${opName}": ${VALID_OPERATORS_TEXT}`);
      ok = false;
      continue;
    }
    const block = v[opName];
    if (!isObject(block) || Object.keys(block).length === 0) {
      out.add(p, `Condition operator ${opName} must map at least one condition key to values`);
      ok = false;
      continue;
    }
    const keys: Record<string, string[]> = result[parsed.canonical] ?? {};
    for (const key of Object.keys(block)) {
      const kp = `${p}.${key}`;
      if (!CONDITION_KEY_RE.test(key)) {
        out.add(kp, `Invalid condition key "${key}": expected "prefix:name" such as aws:SourceIp`);
        ok = false;
        continue;
      }
      const values = conditionValues(block[key], kp, out);
      if (values === undefined) {
        ok = false;
        continue;
      }
      const family = parsed.info.family;
      values.forEach((value, i) => {
        const vp = values.length > 1 ? `${kp}[${i}]` : kp;
        let problem: string | undefined;
        if (family === 'Numeric' && parseNumericValue(value) === undefined)
          problem = `${opName} needs a number, got "${value}"`;
        else if (family === 'Date' && parseDateValue(value) === undefined)
          problem = `${opName} needs an ISO 8601 date or epoch seconds, got "${value}"`;
        else if ((family === 'Bool' || family === 'Null') && !isBoolValue(value))
          problem = `${opName} needs "true" or "false", got "${value}"`;
        else if (family === 'IpAddress' && parseCidr(value) === undefined)
          problem = `${opName} needs an IPv4 or IPv6 address or CIDR block, got "${value}"`;
        else if (family === 'Binary' && !isBase64Value(value))
          problem = `${opName} needs a base64 value, got "${value}"`;
        if (problem !== undefined) {
          out.add(vp, problem);
          ok = false;
        }
      });
      keys[key] = [...(keys[key] ?? []), ...values];
    }
    result[parsed.canonical] = keys;
  }
  return ok ? result : undefined;
}

function parseStatement(
  v: unknown,
  path: string,
  kind: ParsePolicyOptions['kind'],
  out: Collector,
): PolicyStatement | undefined {
  if (!isObject(v)) {
    out.add(path, `Statement must be an object, got ${describe(v)}`);
    return undefined;
  }
  const before = out.violations.length;
  for (const key of Object.keys(v)) {
    if (!STATEMENT_KEYS.has(key))
      out.add(
        `${path}.${key}`,
        `Unknown statement element "${key}"; allowed: ${[...STATEMENT_KEYS].join(', ')}`,
      );
  }
  const s: {
    -readonly [K in keyof PolicyStatement]: PolicyStatement[K];
  } = { Effect: 'Allow' };
  if ('Sid' in v) {
    if (typeof v.Sid !== 'string' || !SID_RE.test(v.Sid))
      out.add(`${path}.Sid`, 'Sid must be a string of letters, digits, spaces, ".", "_" or "-"');
    else s.Sid = v.Sid;
  }
  if (v.Effect === 'Allow' || v.Effect === 'Deny') s.Effect = v.Effect;
  else if (!('Effect' in v))
    out.add(`${path}.Effect`, 'Statement is missing Effect (Allow or Deny)');
  else
    out.add(`${path}.Effect`, `Effect must be "Allow" or "Deny", got ${JSON.stringify(v.Effect)}`);

  const hasP = 'Principal' in v;
  const hasNP = 'NotPrincipal' in v;
  if (hasP && hasNP) out.add(path, 'Statement must not contain both Principal and NotPrincipal');
  if (kind === 'identity' && (hasP || hasNP))
    out.add(
      `${path}.${hasP ? 'Principal' : 'NotPrincipal'}`,
      'Identity-based policies must not contain Principal or NotPrincipal',
    );
  else if (kind !== 'identity' && !hasP && !hasNP)
    out.add(path, `Statement is missing Principal, which ${kind} policies require`);
  if (hasP) s.Principal = parsePrincipal(v.Principal, `${path}.Principal`, 'Principal', out);
  if (hasNP)
    s.NotPrincipal = parsePrincipal(v.NotPrincipal, `${path}.NotPrincipal`, 'NotPrincipal', out);

  const hasA = 'Action' in v;
  const hasNA = 'NotAction' in v;
  if (hasA && hasNA) out.add(path, 'Statement must not contain both Action and NotAction');
  else if (!hasA && !hasNA) out.add(path, 'Statement is missing Action (or NotAction)');
  for (const name of ['Action', 'NotAction'] as const) {
    if (!(name in v)) continue;
    const list = stringList(v[name], `${path}.${name}`, name, out);
    if (list) {
      checkActions(list, `${path}.${name}`, name, out);
      s[name] = list;
    }
  }

  const hasR = 'Resource' in v;
  const hasNR = 'NotResource' in v;
  if (hasR && hasNR) out.add(path, 'Statement must not contain both Resource and NotResource');
  // Trust policies name no resource (the role is the resource); the others must.
  else if (!hasR && !hasNR && kind !== 'trust')
    out.add(path, 'Statement is missing Resource (or NotResource)');
  for (const name of ['Resource', 'NotResource'] as const) {
    if (!(name in v)) continue;
    const list = stringList(v[name], `${path}.${name}`, name, out);
    if (list) {
      checkResources(list, `${path}.${name}`, name, out);
      s[name] = list;
    }
  }

  if ('Condition' in v) s.Condition = parseCondition(v.Condition, `${path}.Condition`, out);
  return out.violations.length === before ? s : undefined;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function parseInto(
  text: string,
  options: ParsePolicyOptions,
  out: Collector,
): PolicyDocument | undefined {
  if (typeof text !== 'string') {
    out.add('', 'Policy must be a JSON string');
    return undefined;
  }
  const maxBytes = options.maxBytes ?? FIXED_LIMITS.authPolicyBytes;
  const size = byteLength(text);
  if (size > maxBytes) {
    out.add('', `Policy is ${size} bytes, over the ${maxBytes}-byte limit`);
    return undefined;
  }
  if (text.trim() === '') {
    out.add('', 'Policy is empty');
    return undefined;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    out.add('', `Policy is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  if (!isObject(raw)) {
    out.add('', `Policy must be a JSON object, got ${describe(raw)}`);
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if (!TOP_LEVEL_KEYS.has(key))
      out.add(key, `Unknown policy element "${key}"; allowed: Version, Id, Statement`);
  }
  let version: PolicyVersion | undefined;
  if ('Version' in raw) {
    if (typeof raw.Version === 'string' && VERSIONS.has(raw.Version))
      version = raw.Version as PolicyVersion;
    else
      out.add(
        'Version',
        `Version must be "2012-10-17" or "2008-10-17", got ${JSON.stringify(raw.Version)}`,
      );
  }
  if ('Id' in raw && typeof raw.Id !== 'string') out.add('Id', 'Id must be a string');
  if (!('Statement' in raw)) {
    out.add('Statement', 'Policy is missing Statement');
    return undefined;
  }
  const list = Array.isArray(raw.Statement) ? raw.Statement : [raw.Statement];
  if (list.length === 0) {
    out.add('Statement', 'Statement must contain at least one statement');
    return undefined;
  }
  const statements: PolicyStatement[] = [];
  const sids = new Set<string>();
  list.forEach((item, i) => {
    const path = Array.isArray(raw.Statement) ? `Statement[${i}]` : 'Statement';
    const st = parseStatement(item, path, options.kind, out);
    if (st === undefined) return;
    if (st.Sid !== undefined && st.Sid !== '') {
      if (sids.has(st.Sid))
        out.add(`${path}.Sid`, `Sid "${st.Sid}" is used by more than one statement`);
      sids.add(st.Sid);
    }
    statements.push(st);
  });
  if (out.violations.length > 0) return undefined;
  const doc: { -readonly [K in keyof PolicyDocument]: PolicyDocument[K] } = {
    Statement: statements,
  };
  if (version !== undefined) doc.Version = version;
  if (typeof raw.Id === 'string') doc.Id = raw.Id;
  return doc;
}

/**
 * Parses and validates a policy document. Throws `PolicyValidationError` (first problem in
 * `message`/`path`, all of them in `violations`) when the text is not a valid policy of `kind`.
 */
export function parsePolicy(text: string, options: ParsePolicyOptions): PolicyDocument {
  const out = new Collector();
  const doc = parseInto(text, options, out);
  if (doc === undefined || out.violations.length > 0)
    throw new PolicyValidationError(out.violations);
  return doc;
}

/** Every problem in a policy document; empty when it is valid. */
export function validatePolicy(text: string, options: ParsePolicyOptions): PolicyViolation[] {
  const out = new Collector();
  parseInto(text, options, out);
  return out.violations;
}
