/**
 * The AWS Lambda API on the Trellis endpoint (issue 6), REST-JSON under `/2015-03-31`, signed
 * for service `lambda`, so `@aws-sdk/client-lambda` creates and invokes local functions:
 * CreateFunction, GetFunction, ListFunctions, DeleteFunction, Invoke (RequestResponse, Event,
 * DryRun). IAM actions are `lambda:<Operation>` (Invoke → `lambda:InvokeFunction`).
 */
import type { ServerResponse } from 'node:http';
import { LambdaError } from '../../errors/lambda-errors.js';
import { FUNCTION_PAYLOAD_LIMIT_BYTES } from '../../model/function-types.js';
import {
  createFunction,
  deleteFunction,
  functionConfiguration,
  getFunction,
  invokeFunction,
  listFunctions,
  type FunctionsConfig,
} from '../../manager/functions.js';
import { writeScope, type RestOperation } from '../rest-operation.js';

function writeError(res: ServerResponse, e: LambdaError): void {
  const text = JSON.stringify(e.body());
  res.writeHead(e.statusCode, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-ErrorType': e.errorType,
  });
  res.end(text);
}

function rejectInvoke(): never {
  throw new Error('Invoke is answered by its raw handler');
}

/** The Lambda operations, bound to the function runtime `bin/` wires. */
export function lambdaOperations(cfg: FunctionsConfig): RestOperation[] {
  return [
    {
      name: 'CreateFunction',
      action: 'lambda:CreateFunction',
      method: 'POST',
      path: '/2015-03-31/functions',
      successStatus: 201,
      anyMembers: true,
      handler: async (scope, input) =>
        functionConfiguration(await createFunction(writeScope(scope), cfg, input.body)),
    },
    {
      name: 'GetFunction',
      action: 'lambda:GetFunction',
      method: 'GET',
      path: '/2015-03-31/functions/{FunctionName}',
      successStatus: 200,
      queryMembers: ['Qualifier'],
      handler: (scope, input) => getFunction(scope, input.params.FunctionName!),
    },
    {
      name: 'ListFunctions',
      action: 'lambda:ListFunctions',
      method: 'GET',
      path: '/2015-03-31/functions',
      successStatus: 200,
      queryMembers: ['Marker', 'MaxItems', 'FunctionVersion', 'MasterRegion'],
      handler: (scope, input) =>
        listFunctions(scope, input.query.get('Marker'), input.query.get('MaxItems')),
    },
    {
      name: 'DeleteFunction',
      action: 'lambda:DeleteFunction',
      method: 'DELETE',
      path: '/2015-03-31/functions/{FunctionName}',
      successStatus: 204,
      queryMembers: ['Qualifier'],
      handler: async (scope, input) => {
        await deleteFunction(writeScope(scope), cfg, input.params.FunctionName!);
        return undefined;
      },
    },
    {
      name: 'Invoke',
      action: 'lambda:InvokeFunction',
      method: 'POST',
      path: '/2015-03-31/functions/{FunctionName}/invocations',
      successStatus: 200,
      queryMembers: ['Qualifier'],
      handler: rejectInvoke,
      async raw(scope, input, res) {
        const name = input.params.FunctionName!;
        const body = input.rawBody;
        try {
          if (body.length > FUNCTION_PAYLOAD_LIMIT_BYTES)
            throw new LambdaError(
              'RequestTooLargeException',
              `Request must be smaller than ${FUNCTION_PAYLOAD_LIMIT_BYTES} bytes for the InvokeFunction operation`,
            );
          const payload = body.length === 0 ? '{}' : body.toString('utf8');
          try {
            JSON.parse(payload);
          } catch {
            throw new LambdaError(
              'InvalidRequestContentException',
              'Could not parse request body into json: the payload is not valid JSON.',
            );
          }
          const type = res.req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
          if (type === 'DryRun') {
            await getFunction(scope, name);
            res.writeHead(204).end();
            return;
          }
          if (type === 'Event') {
            await getFunction(scope, name).catch((err: unknown) => {
              if (!Object.keys(cfg.externalEndpoints ?? {}).includes(name)) throw err;
            });
            void invokeFunction(scope, cfg, name, payload);
            res.writeHead(202, { 'content-length': 0 }).end();
            return;
          }
          const result = await invokeFunction(scope, cfg, name, payload);
          switch (result.status) {
            case 'ok':
            case 'function-error': {
              const headers: Record<string, string | number> = {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(result.payload),
                'X-Amz-Executed-Version': '$LATEST',
              };
              if (result.status === 'function-error') headers['X-Amz-Function-Error'] = 'Unhandled';
              res.writeHead(200, headers).end(result.payload);
              return;
            }
            case 'not-found':
              throw new LambdaError('ResourceNotFoundException', result.message);
            case 'unavailable':
              throw new LambdaError(
                result.throttled === true ? 'TooManyRequestsException' : 'ServiceException',
                result.message,
              );
          }
        } catch (err) {
          if (err instanceof LambdaError && !res.headersSent) return writeError(res, err);
          throw err;
        }
      },
    },
  ];
}
