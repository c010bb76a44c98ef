/**
 * Errors of the IAM and STS Query APIs (issue auth §1): AWS names them by a `Code` in an XML
 * `<ErrorResponse>`, not by an exception type, and the official clients map the code (with its
 * HTTP status) to their exception classes (`NoSuchEntity` → `NoSuchEntityException`).
 */
import { AwsError } from './aws-errors.js';

/** The error codes IAM and STS answer with, and the HTTP status of each. */
export const IAM_ERROR_STATUS = {
  NoSuchEntity: 404,
  EntityAlreadyExists: 409,
  DeleteConflict: 409,
  LimitExceeded: 409,
  MalformedPolicyDocument: 400,
  ValidationError: 400,
  InvalidInput: 400,
  InvalidAction: 400,
  MissingAction: 400,
  InvalidParameterValue: 400,
  MissingParameter: 400,
  UnmodifiableEntity: 400,
  AccessDenied: 403,
  InvalidClientTokenId: 403,
  SignatureDoesNotMatch: 403,
  MissingAuthenticationToken: 403,
  IncompleteSignature: 403,
  ExpiredToken: 403,
  RegionDisabledException: 403,
  PackedPolicyTooLarge: 400,
  ServiceFailure: 500,
} as const;

export type IamErrorCode = keyof typeof IAM_ERROR_STATUS;

/** An IAM/STS error: `code` is the Query `<Code>`; `Sender` faults are the caller's. */
export class IamError extends AwsError {
  readonly statusCode: number;
  readonly errorType: string;
  readonly faultType: 'Sender' | 'Receiver';
  constructor(
    readonly code: IamErrorCode,
    message: string,
  ) {
    super(message);
    this.errorType = code;
    this.statusCode = IAM_ERROR_STATUS[code];
    this.faultType = this.statusCode >= 500 ? 'Receiver' : 'Sender';
  }
}

/** `NoSuchEntity` with IAM's wording: `The role with name X cannot be found.` */
export function noSuchEntity(entity: 'role' | 'user' | 'policy' | 'access key', name: string) {
  return new IamError('NoSuchEntity', `The ${entity} with name ${name} cannot be found.`);
}
