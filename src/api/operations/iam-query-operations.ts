/**
 * The IAM Query actions Trellis answers (issue auth §1), bound to the managers: request members
 * in, IAM's XML result shapes out (policy documents URL-encoded, as IAM returns them).
 */
import {
  createAccessKey,
  deleteAccessKey,
  listAccessKeys,
  updateAccessKey,
} from '../../manager/iam-access-keys.js';
import { encodePolicyDocument, tagList } from '../../manager/iam-common.js';
import {
  createRole,
  deleteRole,
  deleteRolePolicy,
  getRole,
  getRolePolicy,
  listRolePolicies,
  listRoles,
  putRolePolicy,
  tagRole,
  untagRole,
  updateAssumeRolePolicy,
  updateRole,
} from '../../manager/iam-roles.js';
import {
  createUser,
  deleteUser,
  deleteUserPolicy,
  getUser,
  getUserPolicy,
  listUserPolicies,
  listUsers,
  putUserPolicy,
  tagUser,
  untagUser,
} from '../../manager/iam-users.js';
import type { IamRole, IamUser } from '../../model/iam-types.js';
import type { OperationScope, WriteScope } from '../../manager/manager-context.js';
import type { QueryOperation, QueryParams, QueryScope, XmlObject } from '../query-protocol.js';

function w(scope: QueryScope): WriteScope {
  if (!scope.tx) throw new Error('write operation called outside a transaction');
  return scope as WriteScope;
}

/** IAM's `User` shape. */
function userXml(u: IamUser): XmlObject {
  return {
    Path: u.path,
    UserName: u.userName,
    UserId: u.userId,
    Arn: u.arn,
    CreateDate: u.createdAt,
    Tags: u.tags && Object.keys(u.tags).length ? tagList(u.tags) : undefined,
  };
}

/** IAM's `Role` shape; the trust policy is URL-encoded. */
function roleXml(r: IamRole): XmlObject {
  return {
    Path: r.path,
    RoleName: r.roleName,
    RoleId: r.roleId,
    Arn: r.arn,
    CreateDate: r.createdAt,
    AssumeRolePolicyDocument: encodePolicyDocument(r.assumeRolePolicyDocument),
    Description: r.description,
    MaxSessionDuration: r.maxSessionDuration,
    Tags: r.tags && Object.keys(r.tags).length ? tagList(r.tags) : undefined,
  };
}

function iamArnOf(
  scope: OperationScope,
  type: 'role' | 'user',
  path: string,
  name: string,
): string {
  return `arn:${scope.ctx.partition}:iam::${scope.caller.accountId}:${type}${path}${name}`;
}

/** The ARN a role action is authorised on: the stored role's (with its path), else `/name`. */
async function roleResource(scope: OperationScope, params: QueryParams): Promise<string> {
  const name = params.optional('RoleName') ?? '';
  const found = await scope.reader.getByName<IamRole>(
    'iam-role',
    scope.caller.accountId,
    name.toLowerCase(),
  );
  return found?.arn ?? iamArnOf(scope, 'role', params.optional('Path') ?? '/', name);
}

/** The ARN a user action is authorised on: the named user, else the caller itself. */
async function userResource(scope: OperationScope, params: QueryParams): Promise<string> {
  const name = params.optional('UserName');
  if (name === undefined) return scope.caller.principalArn;
  const found = await scope.reader.getByName<IamUser>(
    'iam-user',
    scope.caller.accountId,
    name.toLowerCase(),
  );
  return found?.arn ?? iamArnOf(scope, 'user', params.optional('Path') ?? '/', name);
}

function page(params: QueryParams): { marker?: string; maxItems?: number; pathPrefix?: string } {
  const out: { marker?: string; maxItems?: number; pathPrefix?: string } = {};
  const marker = params.optional('Marker');
  if (marker !== undefined) out.marker = marker;
  const maxItems = params.integer('MaxItems', 1, 1000);
  if (maxItems !== undefined) out.maxItems = maxItems;
  const prefix = params.optional('PathPrefix');
  if (prefix !== undefined) out.pathPrefix = prefix;
  return out;
}

const roleOps: QueryOperation[] = [
  {
    name: 'CreateRole',
    action: 'iam:CreateRole',
    write: true,
    resource: roleResource,
    handler: async (scope, p) => {
      const role = await createRole(w(scope), {
        roleName: p.required('RoleName'),
        path: p.optional('Path'),
        assumeRolePolicyDocument: p.required('AssumeRolePolicyDocument'),
        description: p.optional('Description'),
        maxSessionDuration: p.integer('MaxSessionDuration', 0, Number.MAX_SAFE_INTEGER),
        tags: p.tagList('Tags'),
      });
      return { Role: roleXml(role) };
    },
  },
  {
    name: 'GetRole',
    action: 'iam:GetRole',
    write: false,
    resource: roleResource,
    handler: async (scope, p) => ({ Role: roleXml(await getRole(scope, p.required('RoleName'))) }),
  },
  {
    name: 'ListRoles',
    action: 'iam:ListRoles',
    write: false,
    handler: async (scope, p) => {
      const r = await listRoles(scope, page(p));
      return { Roles: r.items.map(roleXml), IsTruncated: r.isTruncated, Marker: r.marker };
    },
  },
  {
    name: 'DeleteRole',
    action: 'iam:DeleteRole',
    write: true,
    resource: roleResource,
    handler: async (scope, p) => {
      await deleteRole(w(scope), p.required('RoleName'));
      return undefined;
    },
  },
  {
    name: 'UpdateRole',
    action: 'iam:UpdateRole',
    write: true,
    resource: roleResource,
    handler: async (scope, p) => {
      await updateRole(w(scope), {
        roleName: p.required('RoleName'),
        description: p.optional('Description'),
        maxSessionDuration: p.integer('MaxSessionDuration', 0, Number.MAX_SAFE_INTEGER),
      });
      return {};
    },
  },
  {
    name: 'UpdateAssumeRolePolicy',
    action: 'iam:UpdateAssumeRolePolicy',
    write: true,
    resource: roleResource,
    handler: async (scope, p) => {
      await updateAssumeRolePolicy(w(scope), p.required('RoleName'), p.required('PolicyDocument'));
      return undefined;
    },
  },
  {
    name: 'TagRole',
    action: 'iam:TagRole',
    write: true,
    resource: roleResource,
    handler: async (scope, p) => {
      await tagRole(w(scope), p.required('RoleName'), p.tagList('Tags'));
      return undefined;
    },
  },
  {
    name: 'UntagRole',
    action: 'iam:UntagRole',
    write: true,
    resource: roleResource,
    handler: async (scope, p) => {
      await untagRole(w(scope), p.required('RoleName'), p.list('TagKeys'));
      return undefined;
    },
  },
  {
    name: 'ListRoleTags',
    action: 'iam:ListRoleTags',
    write: false,
    resource: roleResource,
    handler: async (scope, p) => {
      const role = await getRole(scope, p.required('RoleName'));
      return { Tags: tagList(role.tags), IsTruncated: false };
    },
  },
  {
    name: 'PutRolePolicy',
    action: 'iam:PutRolePolicy',
    write: true,
    resource: roleResource,
    handler: async (scope, p) => {
      await putRolePolicy(w(scope), {
        roleName: p.required('RoleName'),
        policyName: p.required('PolicyName'),
        policyDocument: p.required('PolicyDocument'),
      });
      return undefined;
    },
  },
  {
    name: 'GetRolePolicy',
    action: 'iam:GetRolePolicy',
    write: false,
    resource: roleResource,
    handler: async (scope, p) => {
      const r = await getRolePolicy(scope, p.required('RoleName'), p.required('PolicyName'));
      return {
        RoleName: r.roleName,
        PolicyName: r.policyName,
        PolicyDocument: encodePolicyDocument(r.policyDocument),
      };
    },
  },
  {
    name: 'DeleteRolePolicy',
    action: 'iam:DeleteRolePolicy',
    write: true,
    resource: roleResource,
    handler: async (scope, p) => {
      await deleteRolePolicy(w(scope), p.required('RoleName'), p.required('PolicyName'));
      return undefined;
    },
  },
  {
    name: 'ListRolePolicies',
    action: 'iam:ListRolePolicies',
    write: false,
    resource: roleResource,
    handler: async (scope, p) => ({
      PolicyNames: await listRolePolicies(scope, p.required('RoleName')),
      IsTruncated: false,
    }),
  },
];

const userOps: QueryOperation[] = [
  {
    name: 'CreateUser',
    action: 'iam:CreateUser',
    write: true,
    resource: userResource,
    handler: async (scope, p) => {
      const user = await createUser(w(scope), {
        userName: p.required('UserName'),
        path: p.optional('Path'),
        tags: p.tagList('Tags'),
      });
      return { User: userXml(user) };
    },
  },
  {
    name: 'GetUser',
    action: 'iam:GetUser',
    write: false,
    resource: userResource,
    handler: async (scope, p) => ({ User: userXml(await getUser(scope, p.optional('UserName'))) }),
  },
  {
    name: 'ListUsers',
    action: 'iam:ListUsers',
    write: false,
    handler: async (scope, p) => {
      const r = await listUsers(scope, page(p));
      return { Users: r.items.map(userXml), IsTruncated: r.isTruncated, Marker: r.marker };
    },
  },
  {
    name: 'DeleteUser',
    action: 'iam:DeleteUser',
    write: true,
    resource: userResource,
    handler: async (scope, p) => {
      await deleteUser(w(scope), p.required('UserName'));
      return undefined;
    },
  },
  {
    name: 'TagUser',
    action: 'iam:TagUser',
    write: true,
    resource: userResource,
    handler: async (scope, p) => {
      await tagUser(w(scope), p.required('UserName'), p.tagList('Tags'));
      return undefined;
    },
  },
  {
    name: 'UntagUser',
    action: 'iam:UntagUser',
    write: true,
    resource: userResource,
    handler: async (scope, p) => {
      await untagUser(w(scope), p.required('UserName'), p.list('TagKeys'));
      return undefined;
    },
  },
  {
    name: 'ListUserTags',
    action: 'iam:ListUserTags',
    write: false,
    resource: userResource,
    handler: async (scope, p) => {
      const user = await getUser(scope, p.required('UserName'));
      return { Tags: tagList(user.tags), IsTruncated: false };
    },
  },
  {
    name: 'PutUserPolicy',
    action: 'iam:PutUserPolicy',
    write: true,
    resource: userResource,
    handler: async (scope, p) => {
      await putUserPolicy(w(scope), {
        userName: p.required('UserName'),
        policyName: p.required('PolicyName'),
        policyDocument: p.required('PolicyDocument'),
      });
      return undefined;
    },
  },
  {
    name: 'GetUserPolicy',
    action: 'iam:GetUserPolicy',
    write: false,
    resource: userResource,
    handler: async (scope, p) => {
      const r = await getUserPolicy(scope, p.required('UserName'), p.required('PolicyName'));
      return {
        UserName: r.userName,
        PolicyName: r.policyName,
        PolicyDocument: encodePolicyDocument(r.policyDocument),
      };
    },
  },
  {
    name: 'DeleteUserPolicy',
    action: 'iam:DeleteUserPolicy',
    write: true,
    resource: userResource,
    handler: async (scope, p) => {
      await deleteUserPolicy(w(scope), p.required('UserName'), p.required('PolicyName'));
      return undefined;
    },
  },
  {
    name: 'ListUserPolicies',
    action: 'iam:ListUserPolicies',
    write: false,
    resource: userResource,
    handler: async (scope, p) => ({
      PolicyNames: await listUserPolicies(scope, p.required('UserName')),
      IsTruncated: false,
    }),
  },
];

const keyOps: QueryOperation[] = [
  {
    name: 'CreateAccessKey',
    action: 'iam:CreateAccessKey',
    write: true,
    resource: userResource,
    handler: async (scope, p) => {
      const k = await createAccessKey(w(scope), p.optional('UserName'));
      return {
        AccessKey: {
          UserName: k.userName,
          AccessKeyId: k.accessKeyId,
          Status: k.status,
          SecretAccessKey: k.secretAccessKey,
          CreateDate: k.createDate,
        },
      };
    },
  },
  {
    name: 'DeleteAccessKey',
    action: 'iam:DeleteAccessKey',
    write: true,
    resource: userResource,
    handler: async (scope, p) => {
      await deleteAccessKey(w(scope), p.required('AccessKeyId'), p.optional('UserName'));
      return undefined;
    },
  },
  {
    name: 'UpdateAccessKey',
    action: 'iam:UpdateAccessKey',
    write: true,
    resource: userResource,
    handler: async (scope, p) => {
      await updateAccessKey(w(scope), {
        accessKeyId: p.required('AccessKeyId'),
        status: p.required('Status'),
        userName: p.optional('UserName'),
      });
      return undefined;
    },
  },
  {
    name: 'ListAccessKeys',
    action: 'iam:ListAccessKeys',
    write: false,
    resource: userResource,
    handler: async (scope, p) => {
      const keys = await listAccessKeys(scope, p.optional('UserName'));
      return {
        AccessKeyMetadata: keys.map((k) => ({
          UserName: k.userName,
          AccessKeyId: k.accessKeyId,
          Status: k.status,
          CreateDate: k.createDate,
        })),
        IsTruncated: false,
      };
    },
  },
];

/** Every IAM Query action Trellis answers. */
export const iamQueryOperations: readonly QueryOperation[] = [...roleOps, ...userOps, ...keyOps];
