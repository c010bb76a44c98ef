import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { RamError } from '../../errors/ram-errors.js';
import type {
  ControlPlaneStore,
  ManagerContext,
  OperationScope,
  WriteScope,
} from '../../manager/manager-context.js';
import {
  acceptResourceShareInvitation,
  associateResourceShare,
  createResourceShare,
  deleteResourceShare,
  disassociateResourceShare,
  getResourceShareAssociations,
  getResourceShareInvitations,
  getResourceShares,
  listResources,
  rejectResourceShareInvitation,
} from '../../manager/resource-shares.js';
import type {
  ApiRequest,
  AuthenticatedCaller,
  JsonTargetHandler,
  ManagementAuthorizer,
} from '../api-server.js';

type Body = Record<string, unknown>;

interface RamOperation {
  name: string;
  method: 'POST' | 'DELETE';
  /** Members the request may hold (RAM answers InvalidParameterException for others). */
  members: readonly string[];
  write: boolean;
  run(scope: OperationScope & Partial<WriteScope>, body: Body): Promise<Body>;
}

const write = (s: OperationScope & Partial<WriteScope>): WriteScope => {
  if (!s.tx) throw new Error('write operation called outside a transaction');
  return s as WriteScope;
};

const PAGE = ['nextToken', 'maxResults'] as const;

/**
 * The RAM operations Trellis answers, by path (restJson1: `POST /<lower-case name>`, except
 * `DELETE /deleteresourceshare?resourceShareArn=…`; RAM API model).
 */
const OPERATIONS: Record<string, RamOperation> = {
  '/createresourceshare': {
    name: 'CreateResourceShare',
    method: 'POST',
    members: [
      'name',
      'resourceArns',
      'principals',
      'tags',
      'allowExternalPrincipals',
      'clientToken',
      'permissionArns',
      'sources',
      'resourceShareConfiguration',
    ],
    write: true,
    run: (s, b) => createResourceShare(write(s), b),
  },
  '/getresourceshares': {
    name: 'GetResourceShares',
    method: 'POST',
    members: [
      'resourceOwner',
      'resourceShareArns',
      'resourceShareStatus',
      'name',
      'tagFilters',
      'permissionArn',
      'permissionVersion',
      ...PAGE,
    ],
    write: false,
    run: (s, b) => getResourceShares(s, b),
  },
  '/associateresourceshare': {
    name: 'AssociateResourceShare',
    method: 'POST',
    members: ['resourceShareArn', 'resourceArns', 'principals', 'clientToken', 'sources'],
    write: true,
    run: (s, b) => associateResourceShare(write(s), b),
  },
  '/disassociateresourceshare': {
    name: 'DisassociateResourceShare',
    method: 'POST',
    members: ['resourceShareArn', 'resourceArns', 'principals', 'clientToken', 'sources'],
    write: true,
    run: (s, b) => disassociateResourceShare(write(s), b),
  },
  '/getresourceshareassociations': {
    name: 'GetResourceShareAssociations',
    method: 'POST',
    members: [
      'associationType',
      'resourceShareArns',
      'resourceArn',
      'principal',
      'associationStatus',
      ...PAGE,
    ],
    write: false,
    run: (s, b) => getResourceShareAssociations(s, b),
  },
  '/deleteresourceshare': {
    name: 'DeleteResourceShare',
    method: 'DELETE',
    members: ['resourceShareArn', 'clientToken'],
    write: true,
    run: (s, b) => deleteResourceShare(write(s), b.resourceShareArn as string | undefined),
  },
  '/getresourceshareinvitations': {
    name: 'GetResourceShareInvitations',
    method: 'POST',
    members: ['resourceShareInvitationArns', 'resourceShareArns', ...PAGE],
    write: false,
    run: (s, b) => getResourceShareInvitations(s, b),
  },
  '/acceptresourceshareinvitation': {
    name: 'AcceptResourceShareInvitation',
    method: 'POST',
    members: ['resourceShareInvitationArn', 'clientToken'],
    write: true,
    run: (s, b) => acceptResourceShareInvitation(write(s), b),
  },
  '/rejectresourceshareinvitation': {
    name: 'RejectResourceShareInvitation',
    method: 'POST',
    members: ['resourceShareInvitationArn', 'clientToken'],
    write: true,
    run: (s, b) => rejectResourceShareInvitation(write(s), b),
  },
  '/listresources': {
    name: 'ListResources',
    method: 'POST',
    members: [
      'resourceOwner',
      'principal',
      'resourceType',
      'resourceArns',
      'resourceShareArns',
      'resourceRegionScope',
      ...PAGE,
    ],
    write: false,
    run: (s, b) => listResources(s, b),
  },
};

/** Names of the RAM operations served (for docs and the CLI). */
export const RAM_OPERATION_NAMES = Object.values(OPERATIONS).map((o) => o.name);

function parseBody(request: ApiRequest): Body {
  if (request.method === 'DELETE') {
    // DeleteResourceShare carries its members in the query string.
    return Object.fromEntries(new URLSearchParams(request.rawQuery));
  }
  if (!request.body.length) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body.toString('utf8'));
  } catch {
    throw new RamError('InvalidParameterException', 'The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new RamError('InvalidParameterException', 'The request body must be a JSON object.');
  return parsed as Body;
}

function checkClientToken(token: unknown): string | undefined {
  if (token === undefined || token === null) return undefined;
  if (typeof token !== 'string' || token.length < 1 || token.length > 64 || !/^[!-~]+$/.test(token))
    throw new RamError(
      'InvalidClientTokenException',
      'clientToken must be 1 to 64 printable ASCII characters.',
    );
  return token;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Body).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function hashOf(op: string, body: Body): string {
  const { clientToken: _ignored, ...rest } = body;
  return createHash('sha256')
    .update(`${op}\n${canonicalJson(rest)}`)
    .digest('hex');
}

/**
 * AWS Resource Access Manager on the API endpoint as RAM speaks it (restJson1, SigV4 signing
 * name `ram`), so `@aws-sdk/client-ram` works unchanged. Management authorisation asks the
 * caller's identity policies for `ram:<Operation>` like every other service. A `clientToken`
 * makes a write idempotent (same token + same request → the first answer; different request →
 * IdempotentParameterMismatchException) and is echoed in the answer, as RAM does.
 */
export function createRamService(deps: {
  store: ControlPlaneStore;
  ctx: ManagerContext;
  authorizer?: ManagementAuthorizer;
}): JsonTargetHandler {
  return {
    async handle(caller: AuthenticatedCaller, request: ApiRequest, res: ServerResponse) {
      const path = request.rawPath.replace(/\/+$/, '');
      const op = OPERATIONS[path];
      if (op === undefined || op.method !== request.method) {
        throw new RamError(
          'OperationNotPermittedException',
          `${request.method} ${request.rawPath} is not a RAM operation Trellis supports (supported: ${RAM_OPERATION_NAMES.join(', ')}).`,
        );
      }
      const body = parseBody(request);
      const unknown = Object.keys(body).filter((k) => !op.members.includes(k));
      if (unknown.length)
        throw new RamError(
          'InvalidParameterException',
          `${op.name} has no parameter ${unknown.join(', ')}.`,
        );
      const token = checkClientToken(body.clientToken);
      const resource =
        typeof body.resourceShareArn === 'string'
          ? body.resourceShareArn
          : typeof body.resourceShareInvitationArn === 'string'
            ? body.resourceShareInvitationArn
            : '*';
      await deps.authorizer?.authorize(caller, `ram:${op.name}`, resource);
      let output: Body;
      if (!op.write) {
        output = await op.run({ ctx: deps.ctx, caller, reader: deps.store.reader }, body);
      } else {
        output = await deps.store.transact(async (tx) => {
          const scope: WriteScope = { ctx: deps.ctx, caller, reader: tx, tx };
          if (token === undefined) return op.run(scope, body);
          const hash = hashOf(op.name, body);
          const prior = await tx.getIdempotency(caller.accountId, `ram:${op.name}`, token);
          if (prior) {
            if (prior.requestHash !== hash)
              throw new RamError(
                'IdempotentParameterMismatchException',
                `The clientToken ${token} was already used with different parameters for ${op.name}.`,
              );
            return JSON.parse(prior.response) as Body;
          }
          const result = await op.run(scope, body);
          await tx.putIdempotency({
            accountId: caller.accountId,
            operation: `ram:${op.name}`,
            clientToken: token,
            requestHash: hash,
            response: JSON.stringify(result),
            createdAt: deps.ctx.now(),
          });
          return result;
        });
      }
      if (token !== undefined) output = { ...output, clientToken: token };
      const text = JSON.stringify(output);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    },
  };
}
