import { listTagsForResource, tagResource, untagResource } from '../../manager/tags.js';
import { writeScope, type RestOperation } from '../rest-operation.js';

/** Tagging operations (spec §1.2). */
export const tagOperations: RestOperation[] = [
  {
    name: 'TagResource',
    method: 'POST',
    path: '/tags/{resourceArn}',
    successStatus: 200,
    bodyMembers: ['tags'],
    handler: (scope, input) =>
      tagResource(writeScope(scope), input.params.resourceArn!, input.body),
  },
  {
    name: 'UntagResource',
    method: 'DELETE',
    path: '/tags/{resourceArn}',
    successStatus: 200,
    queryMembers: ['tagKeys'],
    // spec §1.1: repeated key `?tagKeys=a&tagKeys=b`.
    handler: (scope, input) =>
      untagResource(writeScope(scope), input.params.resourceArn!, input.query.getAll('tagKeys')),
  },
  {
    name: 'ListTagsForResource',
    method: 'GET',
    path: '/tags/{resourceArn}',
    successStatus: 200,
    handler: (scope, input) => listTagsForResource(scope, input.params.resourceArn!),
  },
];
