/**
 * `SimulateAuth` (Trellis's own operation): decides a hypothetical data-plane request the way the
 * auth gate would (spec §2.1–§2.5) and explains it — each level's verdict, each policy's, and the
 * statement that allowed or denied. It reads the store rather than a snapshot, but builds the
 * principal, the identity policies, the condition keys and the path with the same functions the
 * data plane uses (iam/lattice-identity.ts, iam/lattice-request-keys.ts, model/request-path.ts).
 */
import { ResourceNotFoundException, ValidationException } from '../errors/aws-errors.js';
import {
  classifyPrincipalArn,
  compileIdentityPolicies,
  formatIdentityHeader,
  formatIdentityTagsHeader,
  rootIdentityPolicies,
  rootPrincipal,
  sessionPrincipal,
  userPrincipal,
} from '../iam/lattice-identity.js';
import { createLatticeRequestKeys, lowerCaseTags } from '../iam/lattice-request-keys.js';
import {
  authorizeLatticeRequest,
  compilePolicy,
  explainDecision,
  parsePolicy,
  type AuthorizationPrincipal,
  type CompiledPolicy,
  type LatticeAuthLevel,
} from '../iam/policy/index.js';
import type { Account, AccessKey, IamRole, IamUser } from '../model/iam-types.js';
import { idFromIdentifier } from '../model/ids.js';
import type { Vpc } from '../model/inventory-types.js';
import type {
  AuthPolicy,
  Service,
  ServiceNetwork,
  ServiceNetworkServiceAssociation,
  ServiceNetworkVpcAssociation,
} from '../model/lattice-types.js';
import { normalizeRequestPath } from '../model/request-path.js';
import type { StoredResource } from '../store/store.js';
import { authPolicyId } from './auth-policies.js';
import type { OperationScope } from './manager-context.js';

/** The request to simulate. */
export interface SimulateAuthInput {
  /** Principal ARN (user, role, assumed-role session, root) or `anonymous`. */
  principal: string;
  /** Service id, ARN or name. */
  service: string;
  /** Service network id, ARN or name; default: the one the source VPC reaches it through. */
  serviceNetwork?: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  query?: Record<string, string | string[]>;
  sourceVpc?: string;
  sourceIp?: string;
  port?: number;
  /** Session tags for a simulated role session. */
  sessionTags?: Record<string, string>;
}

function str(v: unknown, name: string, required: boolean): string | undefined {
  if (v === undefined || v === null) {
    if (required)
      throw new ValidationException(`${name} is required`, [{ name, message: 'required' }]);
    return undefined;
  }
  if (typeof v !== 'string' || v === '')
    throw new ValidationException(`${name} must be a non-empty string`, [
      { name, message: 'must be a non-empty string' },
    ]);
  return v;
}

function stringMap(v: unknown, name: string, multi: boolean): Record<string, string | string[]> {
  if (v === undefined || v === null) return {};
  const bad = () =>
    new ValidationException(`${name} must be an object of strings`, [
      { name, message: 'must be an object of strings' },
    ]);
  if (typeof v !== 'object' || Array.isArray(v)) throw bad();
  const out: Record<string, string | string[]> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x === 'string') out[k] = x;
    else if (multi && Array.isArray(x) && x.every((e) => typeof e === 'string')) out[k] = x;
    else throw bad();
  }
  return out;
}

/** Validates the wire input of `SimulateAuth`. */
export function parseSimulateAuthInput(body: Record<string, unknown>): SimulateAuthInput {
  const port = body.port;
  if (
    port !== undefined &&
    (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
  )
    throw new ValidationException('port must be an integer 1–65535', [
      { name: 'port', message: 'must be an integer 1–65535' },
    ]);
  const out: SimulateAuthInput = {
    principal: str(body.principal, 'principal', true)!,
    service: str(body.service, 'service', true)!,
  };
  const opt = (k: 'serviceNetwork' | 'method' | 'path' | 'sourceVpc' | 'sourceIp') => {
    const v = str(body[k], k, false);
    if (v !== undefined) out[k] = v;
  };
  opt('serviceNetwork');
  opt('method');
  opt('path');
  opt('sourceVpc');
  opt('sourceIp');
  if (port !== undefined) out.port = port as number;
  const headers = stringMap(body.headers, 'headers', false) as Record<string, string>;
  if (Object.keys(headers).length) out.headers = headers;
  const query = stringMap(body.query, 'query', true);
  if (Object.keys(query).length) out.query = query;
  const tags = stringMap(body.sessionTags, 'sessionTags', false) as Record<string, string>;
  if (Object.keys(tags).length) out.sessionTags = tags;
  return out;
}

async function findByIdArnOrName<T>(
  scope: OperationScope,
  kind: 'service' | 'service-network',
  identifier: string,
): Promise<StoredResource<T>> {
  const accountId = scope.caller.accountId;
  let found: StoredResource<T> | undefined;
  if (identifier.startsWith('arn:')) found = await scope.reader.getByArn<T>(identifier);
  else if (/^(svc|sn)-[0-9a-z]{17}$/.test(identifier))
    found = await scope.reader.get<T>(kind, idFromIdentifier(identifier));
  else found = await scope.reader.getByName<T>(kind, accountId, identifier);
  if (!found || found.kind !== kind || found.accountId !== accountId)
    throw new ResourceNotFoundException(
      `${kind === 'service' ? 'Service' : 'Service network'} ${identifier} not found: give its id, ARN or name.`,
      identifier,
      kind === 'service' ? 'SERVICE' : 'SERVICE_NETWORK',
    );
  return found;
}

async function listAll<T>(
  scope: OperationScope,
  query: Parameters<OperationScope['reader']['list']>[0],
): Promise<StoredResource<T>[]> {
  const out: StoredResource<T>[] = [];
  let afterId: string | undefined;
  for (;;) {
    const page = await scope.reader.list<T>({ ...query, ...(afterId ? { afterId } : {}) });
    out.push(...page.items);
    if (page.lastId === undefined) return out;
    afterId = page.lastId;
  }
}

async function authLevel(
  scope: OperationScope,
  resource: { id: string; arn: string; name: string; authType: LatticeAuthLevel['authType'] },
): Promise<LatticeAuthLevel & { policyText?: string }> {
  const stored = await scope.reader.get<AuthPolicy>('auth-policy', authPolicyId(resource.id));
  if (!stored) return { authType: resource.authType };
  const level = resource.arn.includes(':servicenetwork/') ? 'Network' : 'Service';
  try {
    const policy = compilePolicy(
      parsePolicy(stored.data.policy, { kind: 'resource', maxBytes: 1 << 20 }),
      {
        level,
        name: resource.name,
        resourceArn: resource.arn,
      },
    );
    return { authType: resource.authType, policy, policyText: stored.data.policy };
  } catch {
    return { authType: resource.authType, policyText: stored.data.policy };
  }
}

interface ResolvedCaller {
  principal: AuthorizationPrincipal;
  policies: readonly CompiledPolicy[];
  note?: string;
}

async function resolvePrincipal(
  scope: OperationScope,
  arn: string,
  sessionTags: Record<string, string> | undefined,
): Promise<ResolvedCaller | undefined> {
  if (arn.toLowerCase() === 'anonymous') return undefined;
  const kind = classifyPrincipalArn(arn);
  const partition = scope.ctx.partition;
  const notFound = (what: string) =>
    new ValidationException(`principal ${arn}: ${what}`, [{ name: 'principal', message: what }]);
  if (kind === undefined)
    throw notFound(
      'give `anonymous` or the ARN of a user, role, assumed-role session or account root',
    );
  const account = (await scope.reader.get<Account>('account', `account-${kind.accountId}`))?.data;
  if (kind.kind === 'root')
    return {
      principal: rootPrincipal(partition, kind.accountId, account),
      policies: rootIdentityPolicies(),
    };
  if (kind.kind === 'user') {
    const user = await scope.reader.getByArn<IamUser>(kind.arn);
    if (user?.kind !== 'iam-user') throw notFound('no such IAM user');
    return {
      principal: userPrincipal(user.data, account),
      policies: compileIdentityPolicies(user.data.inlinePolicies, user.data.arn),
    };
  }
  const role = await scope.reader.getByName<IamRole>(
    'iam-role',
    kind.accountId,
    kind.roleName.toLowerCase(),
  );
  if (role?.kind !== 'iam-role') throw notFound(`no such role ${kind.roleName}`);
  const sessionName = kind.kind === 'session' ? kind.sessionName : 'trellis-simulate';
  const sessionArn = `arn:${partition}:sts::${kind.accountId}:assumed-role/${role.data.roleName}/${sessionName}`;
  let tags = sessionTags;
  let note: string | undefined;
  if (tags === undefined && kind.kind === 'session') {
    // Use the tags of a live session with this ARN, if one exists.
    const keys = await listAll<AccessKey>(scope, {
      kind: 'access-key',
      where: { principalArn: sessionArn },
    });
    const live = keys.find(
      (k) =>
        k.data.expiration === undefined ||
        Date.parse(k.data.expiration) > Date.parse(scope.ctx.now()),
    );
    if (live?.data.sessionTags) tags = live.data.sessionTags;
    if (live === undefined) note = 'no live session with this ARN: simulated without session tags';
  }
  if (kind.kind === 'role')
    note = `simulated as a session of the role (session name ${sessionName})`;
  return {
    principal: sessionPrincipal(
      {
        arn: sessionArn,
        accountId: kind.accountId,
        roleArn: role.data.arn,
        sessionName,
        ...(tags !== undefined ? { sessionTags: tags } : {}),
      },
      role.data,
      account,
    ),
    policies: compileIdentityPolicies(role.data.inlinePolicies, role.data.arn),
    ...(note !== undefined ? { note } : {}),
  };
}

/** Picks the network: the one given, else one that links the source VPC and the service. */
async function pickNetwork(
  scope: OperationScope,
  service: StoredResource<Service>,
  input: SimulateAuthInput,
): Promise<{ network?: StoredResource<ServiceNetwork>; note?: string }> {
  if (input.serviceNetwork !== undefined)
    return {
      network: await findByIdArnOrName<ServiceNetwork>(
        scope,
        'service-network',
        input.serviceNetwork,
      ),
    };
  const snsas = await listAll<ServiceNetworkServiceAssociation>(scope, {
    kind: 'service-network-service-association',
    where: { serviceId: service.id },
  });
  let ids = snsas.map((a) => a.data.serviceNetworkId);
  if (input.sourceVpc !== undefined) {
    const snvas = await listAll<ServiceNetworkVpcAssociation>(scope, {
      kind: 'service-network-vpc-association',
      where: { vpcId: input.sourceVpc },
    });
    const reachable = new Set(snvas.map((a) => a.data.serviceNetworkId));
    ids = ids.filter((id) => reachable.has(id));
  }
  if (ids.length === 0)
    return {
      note:
        input.sourceVpc !== undefined
          ? `no service network links ${input.sourceVpc} to the service (the data plane would answer 404); evaluated without a network`
          : 'the service is in no service network; evaluated without a network',
    };
  const network = await scope.reader.get<ServiceNetwork>('service-network', ids[0]!);
  return {
    ...(network ? { network } : {}),
    ...(ids.length > 1
      ? {
          note: `the service is in ${ids.length} networks; evaluated through ${ids[0]} (pass serviceNetwork to choose)`,
        }
      : {}),
  };
}

/** Simulates one data-plane request and explains the decision. */
export async function simulateAuth(
  scope: OperationScope,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const input = parseSimulateAuthInput(body);
  const service = await findByIdArnOrName<Service>(scope, 'service', input.service);
  const { network, note: networkNote } = await pickNetwork(scope, service, input);
  const caller = await resolvePrincipal(scope, input.principal, input.sessionTags);
  const rawPath = input.path ?? '/';
  const path = normalizeRequestPath(rawPath.startsWith('/') ? rawPath : `/${rawPath}`);
  if (path === undefined)
    throw new ValidationException(
      `path ${rawPath} is refused by the data plane with 400 (dot segments, encoded slashes or backslashes)`,
      [{ name: 'path', message: 'refused by the data plane (400)' }],
    );
  const method = (input.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers ?? {})) headers[k.toLowerCase()] = v;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(input.query ?? {}))
    for (const x of Array.isArray(v) ? v : [v]) params.append(k, x);
  let vpcOwner: string | undefined;
  if (input.sourceVpc !== undefined)
    vpcOwner = (await scope.reader.get<Vpc>('vpc', input.sourceVpc))?.data.ownerAccountId;

  const serviceLevel = await authLevel(scope, service.data);
  const networkLevel = network ? await authLevel(scope, network.data) : undefined;
  const principal = caller?.principal;
  const nowMs = Date.parse(scope.ctx.now());
  const decision = authorizeLatticeRequest({
    ...(networkLevel ? { network: networkLevel } : {}),
    service: serviceLevel,
    ...(caller ? { identityPolicies: caller.policies } : {}),
    ctx: {
      action: 'vpc-lattice-svcs:Invoke',
      resource: service.data.arn + path,
      ...(principal ? { principal } : {}),
      keys: createLatticeRequestKeys(
        {
          port: input.port ?? 80,
          method,
          path,
          headers,
          rawQuery: params.toString(),
          serviceArn: service.data.arn,
          serviceNetworkArn: network?.data.arn,
          sourceVpc: input.sourceVpc,
          sourceVpcOwnerAccount: vpcOwner,
          sourceIp: input.sourceIp,
          resourceTags: lowerCaseTags(service.data.tags),
          nowMs: Number.isNaN(nowMs) ? Date.now() : nowMs,
          region: scope.ctx.region,
        },
        principal,
      ),
    },
  });
  const notes = [networkNote, caller?.note].filter((n): n is string => n !== undefined);
  if (path !== rawPath) notes.push(`path normalised to ${path} (as the data plane does)`);
  return {
    decision: decision.allowed ? 'ALLOW' : 'DENY',
    allowed: decision.allowed,
    ...(decision.deniedBy ? { authDeniedReason: decision.deniedBy } : {}),
    explicitDeny: decision.explicit,
    status: decision.allowed ? 200 : 403,
    message: decision.allowed ? decision.message : `AccessDeniedException: ${decision.message}`,
    principal: decision.user,
    action: decision.action,
    resource: decision.resource,
    serviceArn: service.data.arn,
    ...(network ? { serviceNetworkArn: network.data.arn } : {}),
    path,
    levels: decision.verdicts.map((v) => ({
      level: v.level,
      ...(v.authType ? { authType: v.authType } : {}),
      effect: v.effect,
      policies: v.policies.map((p) => ({
        ...(p.label.name !== undefined ? { name: p.label.name } : {}),
        ...(p.label.resourceArn !== undefined ? { attachedTo: p.label.resourceArn } : {}),
        effect: p.verdict.effect,
        ...(p.verdict.statement
          ? {
              statement: {
                index: p.verdict.statement.index,
                ...(p.verdict.statement.sid ? { sid: p.verdict.statement.sid } : {}),
              },
            }
          : {}),
      })),
    })),
    ...(decision.allowed && principal
      ? {
          identityHeaders: {
            'x-amzn-lattice-identity': formatIdentityHeader(principal),
            'x-amzn-lattice-identity-tags': formatIdentityTagsHeader(principal),
          },
        }
      : {}),
    explanation: explainDecision(decision),
    ...(notes.length ? { notes } : {}),
  };
}
