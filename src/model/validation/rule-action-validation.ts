/**
 * Validation of the `RuleAction` and `RuleMatch` unions of listener default actions and rules
 * (spec §1.5 Rule, §1.1 unions). Pure: the console and every manager that takes an action use it.
 * Existence and ownership of the target groups are the manager's business, not checked here.
 */

import type { RuleAction } from '../lattice-types.js';
import { checkBoolean, checkInteger, isPlainObject, type FieldViolation } from './field-rules.js';

/** API limits of the model (spec §1.5, §6). */
export const RULE_LIMITS = Object.freeze({
  targetGroupsPerForward: 10,
  weightMax: 999,
  headerMatchesMax: 5,
  methodMaxLength: 16,
  pathMaxLength: 200,
  headerNameMaxLength: 100,
  headerValueMaxLength: 200,
  priorityMin: 1,
  priorityMax: 2000,
});

/** `TargetGroupIdentifier`: a bare `tg-` ID or a target-group ARN (spec §1.3). */
const TARGET_GROUP_IDENTIFIER =
  /^(tg-[0-9a-z]{17}|arn:[a-z0-9-]+:vpc-lattice:[a-zA-Z0-9-]+:\d{12}:targetgroup\/tg-[0-9a-z]{17})$/;

/** spec §1.5: path values start with `/` and use the model's character set; no wildcards. */
const PATH_VALUE = /^\/[a-zA-Z0-9@:%_+.~#?&/=-]*$/;

/**
 * An RFC 9110 token (what a method or header name may hold) without `*`: the API has no wildcards
 * in methods or header names (spec §1.5).
 */
const TOKEN = /^[!#$%&'+.^_`|~0-9A-Za-z-]+$/;

/** Checks that a union object has exactly one of `members` set and no other member. */
function checkUnion(
  out: FieldViolation[],
  field: string,
  value: Record<string, unknown>,
  members: readonly string[],
): string | undefined {
  const keys = Object.keys(value).filter((k) => value[k] !== undefined && value[k] !== null);
  const unknown = keys.filter((k) => !members.includes(k));
  for (const k of unknown) {
    out.push({
      name: `${field}.${k}`,
      message: `is not a member; use one of ${members.join(', ')}`,
    });
  }
  const set = keys.filter((k) => members.includes(k));
  if (set.length !== 1) {
    if (!unknown.length) {
      out.push({
        name: field,
        message: `must set exactly one of ${members.join(', ')} (found ${set.length})`,
      });
    }
    return undefined;
  }
  return set[0];
}

function checkNoExtraMembers(
  out: FieldViolation[],
  field: string,
  value: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const k of Object.keys(value)) {
    if (!known.includes(k)) out.push({ name: `${field}.${k}`, message: 'is not a member' });
  }
}

/**
 * `RuleAction`: exactly one of `forward` (1–10 weighted target groups, weight 0–999) or
 * `fixedResponse` (statusCode 100–599; the real service documents only 404 and 500 as supported,
 * but its model accepts the range, and so do we — spec §8.5).
 */
export function checkRuleAction(
  out: FieldViolation[],
  field: string,
  value: unknown,
  required = true,
): void {
  if (value === undefined) {
    if (required) out.push({ name: field, message: 'is required' });
    return;
  }
  if (!isPlainObject(value)) {
    out.push({ name: field, message: 'must be an object with one of forward, fixedResponse' });
    return;
  }
  const member = checkUnion(out, field, value, ['forward', 'fixedResponse']);
  if (member === 'fixedResponse') {
    const fr = value.fixedResponse;
    const f = `${field}.fixedResponse`;
    if (!isPlainObject(fr)) {
      out.push({ name: f, message: 'must be an object with statusCode' });
      return;
    }
    checkNoExtraMembers(out, f, fr, ['statusCode']);
    checkInteger(out, `${f}.statusCode`, fr.statusCode, 100, 599, true);
    return;
  }
  if (member !== 'forward') return;
  const fw = value.forward;
  const f = `${field}.forward`;
  if (!isPlainObject(fw)) {
    out.push({ name: f, message: 'must be an object with targetGroups' });
    return;
  }
  checkNoExtraMembers(out, f, fw, ['targetGroups']);
  const tgs = fw.targetGroups;
  if (!Array.isArray(tgs) || tgs.length < 1 || tgs.length > RULE_LIMITS.targetGroupsPerForward) {
    out.push({
      name: `${f}.targetGroups`,
      message: `must be a list of 1 to ${RULE_LIMITS.targetGroupsPerForward} weighted target groups`,
    });
    return;
  }
  const seen = new Set<string>();
  tgs.forEach((tg: unknown, i) => {
    const p = `${f}.targetGroups[${i}]`;
    if (!isPlainObject(tg)) {
      out.push({ name: p, message: 'must be an object with targetGroupIdentifier and weight' });
      return;
    }
    checkNoExtraMembers(out, p, tg, ['targetGroupIdentifier', 'weight']);
    const id = tg.targetGroupIdentifier;
    if (typeof id !== 'string' || !TARGET_GROUP_IDENTIFIER.test(id)) {
      out.push({
        name: `${p}.targetGroupIdentifier`,
        message: 'is required and must be a target group ID (tg-…) or ARN',
      });
    } else {
      const bare = id.slice(id.lastIndexOf('/') + 1);
      if (seen.has(bare)) {
        out.push({ name: `${p}.targetGroupIdentifier`, message: 'lists a target group twice' });
      }
      seen.add(bare);
    }
    checkInteger(out, `${p}.weight`, tg.weight, 0, RULE_LIMITS.weightMax);
  });
}

function checkMatchValue(
  out: FieldViolation[],
  field: string,
  value: unknown,
  members: readonly string[],
  maxLength: number,
  pattern?: RegExp,
): void {
  if (!isPlainObject(value)) {
    out.push({ name: field, message: `is required and must set one of ${members.join(', ')}` });
    return;
  }
  const member = checkUnion(out, field, value, members);
  if (!member) return;
  const v = value[member];
  const f = `${field}.${member}`;
  if (typeof v !== 'string' || v.length < 1 || v.length > maxLength) {
    out.push({ name: f, message: `must be a string of 1 to ${maxLength} characters` });
  } else if (pattern && !pattern.test(v)) {
    out.push({ name: f, message: `must match the pattern ${pattern.source}` });
  }
}

/**
 * `RuleMatch`: exactly one member, `httpMatch`, holding any of `method` (≤16 chars, exact and
 * case-sensitive), `pathMatch` (exact | prefix) and 1–5 `headerMatches` (spec §1.5).
 */
export function checkRuleMatch(
  out: FieldViolation[],
  field: string,
  value: unknown,
  required = true,
): void {
  if (value === undefined) {
    if (required) out.push({ name: field, message: 'is required' });
    return;
  }
  if (!isPlainObject(value)) {
    out.push({ name: field, message: 'must be an object with httpMatch' });
    return;
  }
  if (checkUnion(out, field, value, ['httpMatch']) !== 'httpMatch') return;
  const hm = value.httpMatch;
  const f = `${field}.httpMatch`;
  if (!isPlainObject(hm)) {
    out.push({ name: f, message: 'must be an object' });
    return;
  }
  checkNoExtraMembers(out, f, hm, ['method', 'pathMatch', 'headerMatches']);
  if (hm.method !== undefined) {
    const m = hm.method;
    if (typeof m !== 'string' || m.length < 1 || m.length > RULE_LIMITS.methodMaxLength) {
      out.push({
        name: `${f}.method`,
        message: `must be a string of 1 to ${RULE_LIMITS.methodMaxLength} characters`,
      });
    } else if (!TOKEN.test(m)) {
      out.push({ name: `${f}.method`, message: 'must be an HTTP method token (no wildcards)' });
    }
  }
  if (hm.pathMatch !== undefined) {
    const pm = hm.pathMatch;
    const p = `${f}.pathMatch`;
    if (!isPlainObject(pm)) {
      out.push({ name: p, message: 'must be an object with match' });
    } else {
      checkNoExtraMembers(out, p, pm, ['match', 'caseSensitive']);
      checkMatchValue(
        out,
        `${p}.match`,
        pm.match,
        ['exact', 'prefix'],
        RULE_LIMITS.pathMaxLength,
        PATH_VALUE,
      );
      checkBoolean(out, `${p}.caseSensitive`, pm.caseSensitive);
    }
  }
  if (hm.headerMatches !== undefined) {
    const hs = hm.headerMatches;
    const p = `${f}.headerMatches`;
    if (!Array.isArray(hs) || hs.length < 1 || hs.length > RULE_LIMITS.headerMatchesMax) {
      out.push({
        name: p,
        message: `must be a list of 1 to ${RULE_LIMITS.headerMatchesMax} header matches`,
      });
    } else {
      hs.forEach((h: unknown, i) => {
        const hp = `${p}[${i}]`;
        if (!isPlainObject(h)) {
          out.push({ name: hp, message: 'must be an object with name and match' });
          return;
        }
        checkNoExtraMembers(out, hp, h, ['name', 'match', 'caseSensitive']);
        const n = h.name;
        if (typeof n !== 'string' || n.length < 1 || n.length > RULE_LIMITS.headerNameMaxLength) {
          out.push({
            name: `${hp}.name`,
            message: `is required and must be a string of 1 to ${RULE_LIMITS.headerNameMaxLength} characters`,
          });
        } else if (!TOKEN.test(n)) {
          out.push({
            name: `${hp}.name`,
            message: 'must be an HTTP header name (no spaces, colons or wildcards)',
          });
        }
        checkMatchValue(
          out,
          `${hp}.match`,
          h.match,
          ['exact', 'prefix', 'contains'],
          RULE_LIMITS.headerValueMaxLength,
        );
        checkBoolean(out, `${hp}.caseSensitive`, h.caseSensitive);
      });
    }
  }
}

/** `priority` of a rule: 1–2000 in the API (console and CFN say 1–100, spec §8.3). */
export function checkRulePriority(
  out: FieldViolation[],
  field: string,
  value: unknown,
  required = true,
): void {
  checkInteger(out, field, value, RULE_LIMITS.priorityMin, RULE_LIMITS.priorityMax, required);
}

/** The target-group identifiers a (valid) action forwards to, as given. */
export function targetGroupIdentifiersOf(action: RuleAction): string[] {
  return action.forward?.targetGroups.map((t) => t.targetGroupIdentifier) ?? [];
}
