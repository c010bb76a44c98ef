/**
 * TagResource, UntagResource and ListTagsForResource (spec §1.5 Tagging) on any taggable Lattice
 * resource of the caller, named by ARN. Tags live in the resource's own `data.tags`.
 */
import { ResourceNotFoundException, ValidationException } from '../errors/aws-errors.js';
import { parseArn } from '../model/ids.js';
import type { Tags } from '../model/lattice-types.js';
import type { ResourceKind } from '../model/resource-kinds.js';
import { checkTags, type FieldViolation } from '../model/validation/field-rules.js';
import type { StoredResource } from '../store/store.js';
import type { OperationScope, WriteScope } from './manager-context.js';

/** Kinds that carry tags (every Lattice resource with an ARN). */
const TAGGABLE = new Set<ResourceKind>([
  'service-network',
  'service',
  'listener',
  'rule',
  'target-group',
  'service-network-service-association',
  'service-network-vpc-association',
  'access-log-subscription',
]);

/** The AWS-wide tag limit Trellis enforces (see field-rules.ts `checkTags`). */
const MAX_TAGS = 50;

async function findTaggable(
  scope: OperationScope,
  resourceArn: string,
): Promise<StoredResource<{ tags?: Tags }>> {
  const parsed = parseArn(resourceArn);
  if (!parsed || parsed.service !== 'vpc-lattice') {
    throw ValidationException.fromFields([
      {
        name: 'resourceArn',
        message: 'must be the ARN of a VPC Lattice resource (arn:…:vpc-lattice:…)',
      },
    ]);
  }
  const found = await scope.reader.getByArn<{ tags?: Tags }>(resourceArn);
  if (!found || !TAGGABLE.has(found.kind) || found.accountId !== scope.caller.accountId) {
    throw new ResourceNotFoundException(
      `Resource ${resourceArn} not found`,
      resourceArn,
      parsed.resource.split('/')[0]?.toUpperCase() ?? 'RESOURCE',
    );
  }
  return found;
}

async function writeTags(
  scope: WriteScope,
  found: StoredResource<{ tags?: Tags }>,
  tags: Tags,
): Promise<void> {
  const data: { tags?: Tags } = { ...found.data };
  if (Object.keys(tags).length) data.tags = tags;
  else delete data.tags;
  await scope.tx.update({
    kind: found.kind,
    id: found.id,
    accountId: found.accountId,
    parentId: found.parentId,
    data,
  });
}

/** TagResource: adds or overwrites tags; empty 200. */
export async function tagResource(
  scope: WriteScope,
  resourceArn: string,
  input: { tags?: unknown },
): Promise<undefined> {
  const fields: FieldViolation[] = [];
  if (input.tags === undefined) fields.push({ name: 'tags', message: 'is required' });
  checkTags(fields, 'tags', input.tags);
  if (fields.length) throw ValidationException.fromFields(fields);
  const found = await findTaggable(scope, resourceArn);
  const merged: Tags = { ...(found.data.tags ?? {}), ...(input.tags as Tags) };
  if (Object.keys(merged).length > MAX_TAGS) {
    throw ValidationException.fromFields([
      { name: 'tags', message: `a resource can have at most ${MAX_TAGS} tags` },
    ]);
  }
  await writeTags(scope, found, merged);
  return undefined;
}

/** UntagResource: removes the keys (absent keys are ignored); empty 200. */
export async function untagResource(
  scope: WriteScope,
  resourceArn: string,
  tagKeys: string[],
): Promise<undefined> {
  if (tagKeys.length < 1 || tagKeys.length > MAX_TAGS * 4) {
    throw ValidationException.fromFields([
      { name: 'tagKeys', message: 'must list 1 to 200 tag keys' },
    ]);
  }
  const found = await findTaggable(scope, resourceArn);
  const tags: Tags = { ...(found.data.tags ?? {}) };
  for (const k of tagKeys) delete tags[k];
  await writeTags(scope, found, tags);
  return undefined;
}

/** ListTagsForResource: `{tags}`. */
export async function listTagsForResource(
  scope: OperationScope,
  resourceArn: string,
): Promise<Record<string, unknown>> {
  const found = await findTaggable(scope, resourceArn);
  return { tags: found.data.tags ?? {} };
}
