import type { ServerResponse } from 'node:http';
import { AcmError } from '../../errors/acm-errors.js';
import {
  deleteCertificate,
  describeCertificate,
  getCertificate,
  importCertificate,
  listCertificates,
  requestCertificate,
  type CertificatePorts,
} from '../../manager/certificates.js';
import type {
  ControlPlaneStore,
  ManagerContext,
  OperationScope,
  WriteScope,
} from '../../manager/manager-context.js';
import type {
  ApiRequest,
  AuthenticatedCaller,
  JsonTargetHandler,
  ManagementAuthorizer,
} from '../api-server.js';

type Handler = (
  scope: OperationScope & Partial<WriteScope>,
  ports: CertificatePorts,
  body: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

const write = (s: OperationScope & Partial<WriteScope>): WriteScope => {
  if (!s.tx) throw new Error('write operation called outside a transaction');
  return s as WriteScope;
};

/** The ACM operations Trellis answers (awsJson1_1, target prefix `CertificateManager`). */
const OPERATIONS: Record<string, { write: boolean; run: Handler }> = {
  ImportCertificate: { write: true, run: (s, p, b) => importCertificate(write(s), p, b) },
  RequestCertificate: { write: true, run: (s, p, b) => requestCertificate(write(s), p, b) },
  DescribeCertificate: { write: false, run: (s, _p, b) => describeCertificate(s, b) },
  GetCertificate: { write: false, run: (s, _p, b) => getCertificate(s, b) },
  ListCertificates: { write: false, run: (s, _p, b) => listCertificates(s, b) },
  DeleteCertificate: { write: true, run: (s, _p, b) => deleteCertificate(write(s), b) },
};

/** Names of the ACM operations served (for docs and the CLI). */
export const ACM_OPERATION_NAMES = Object.keys(OPERATIONS);

/**
 * The certificate store on the API endpoint as AWS Certificate Manager speaks it: `POST /`,
 * `X-Amz-Target: CertificateManager.<Operation>`, SigV4 signing name `acm`, JSON in and out, so
 * `@aws-sdk/client-acm` works against Trellis unchanged.
 */
export function createAcmService(deps: {
  store: ControlPlaneStore;
  ctx: ManagerContext;
  authorizer?: ManagementAuthorizer;
  ports: CertificatePorts;
}): JsonTargetHandler {
  return {
    async handle(caller: AuthenticatedCaller, request: ApiRequest, res: ServerResponse) {
      const target = String(request.headers['x-amz-target'] ?? '');
      const name = target.startsWith('CertificateManager.') ? target.slice(19) : '';
      const op = OPERATIONS[name];
      if (op === undefined)
        throw new AcmError(
          'ValidationException',
          `Operation ${target || '(no X-Amz-Target)'} is not supported by Trellis's certificate store.`,
        );
      let body: Record<string, unknown> = {};
      if (request.body.length > 0) {
        try {
          const parsed: unknown = JSON.parse(request.body.toString('utf8'));
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
            throw new Error('not an object');
          body = parsed as Record<string, unknown>;
        } catch {
          throw new AcmError('ValidationException', 'The request body is not a JSON object.');
        }
      }
      const resource = typeof body.CertificateArn === 'string' ? body.CertificateArn : '*';
      await deps.authorizer?.authorize(caller, `acm:${name}`, resource);
      const output = op.write
        ? await deps.store.transact((tx) =>
            op.run({ ctx: deps.ctx, caller, reader: tx, tx }, deps.ports, body),
          )
        : await op.run({ ctx: deps.ctx, caller, reader: deps.store.reader }, deps.ports, body);
      const text = JSON.stringify(output);
      res.writeHead(200, {
        'content-type': 'application/x-amz-json-1.1',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    },
  };
}
