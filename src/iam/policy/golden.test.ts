/**
 * Golden decisions: each testdata/*.json holds the policies, the request and the expected
 * decision with its explanation lines (what `trellis auth simulate` prints).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  authorizeLatticeRequest,
  chainKeys,
  compilePolicy,
  createPrincipalKeys,
  createStaticKeys,
  explainDecision,
  parsePolicy,
  type AuthorizationPrincipal,
  type LatticeAuthLevel,
} from './index.js';

interface GoldenLevel {
  authType: 'NONE' | 'AWS_IAM';
  name?: string;
  resourceArn?: string;
  policy?: unknown;
}

export interface GoldenCase {
  description: string;
  network?: GoldenLevel;
  service: GoldenLevel;
  identityPolicies?: { name: string; policy: unknown }[];
  principal?: AuthorizationPrincipal;
  request: { action: string; resource: string; keys: Record<string, string | string[]> };
  expected: {
    allowed: boolean;
    deniedBy?: string;
    explicit: boolean;
    message: string;
    explanation: string[];
  };
}

function level(l: GoldenLevel, kind: 'Network' | 'Service'): LatticeAuthLevel {
  const label = { level: kind, name: l.name, resourceArn: l.resourceArn };
  return l.policy === undefined
    ? { authType: l.authType }
    : {
        authType: l.authType,
        policy: compilePolicy(parsePolicy(JSON.stringify(l.policy), { kind: 'resource' }), label),
      };
}

/** Runs one golden case and returns what it should be compared against. */
export function runGolden(c: GoldenCase): GoldenCase['expected'] {
  const d = authorizeLatticeRequest({
    network: c.network && level(c.network, 'Network'),
    service: level(c.service, 'Service'),
    identityPolicies: c.identityPolicies?.map((p) =>
      compilePolicy(parsePolicy(JSON.stringify(p.policy), { kind: 'identity' }), {
        level: 'Identity',
        name: p.name,
      }),
    ),
    ctx: {
      action: c.request.action,
      resource: c.request.resource,
      principal: c.principal,
      keys: chainKeys(createStaticKeys(c.request.keys), createPrincipalKeys(c.principal)),
    },
  });
  const out: GoldenCase['expected'] = {
    allowed: d.allowed,
    explicit: d.explicit,
    message: d.message,
    explanation: explainDecision(d),
  };
  if (d.deniedBy !== undefined) out.deniedBy = d.deniedBy;
  return out;
}

const dir = new URL('./testdata/', import.meta.url);

describe('golden decisions (testdata/*.json)', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  it('has golden files', () => assert.ok(files.length >= 3));
  for (const file of files) {
    const c = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as GoldenCase;
    it(`${file}: ${c.description}`, () => {
      assert.deepEqual(runGolden(c), c.expected);
    });
  }
});
