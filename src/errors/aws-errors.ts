/**
 * The AWS exceptions the control plane answers with (spec §1.6): the JSON error shape, the
 * `x-amzn-ErrorType` header and the HTTP status of the real service. One registry for every room.
 */

export interface ValidationExceptionField {
  name: string;
  message: string;
}

export type ValidationReason =
  'unknownOperation' | 'cannotParse' | 'fieldValidationFailed' | 'other';

/** Base of every AWS error Trellis renders; `body()` is the JSON members of the shape. */
export abstract class AwsError extends Error {
  abstract readonly errorType: string;
  abstract readonly statusCode: number;
  /** Members of the error shape besides `message`. */
  body(): Record<string, unknown> {
    return { message: this.message };
  }
}

export class ValidationException extends AwsError {
  readonly errorType = 'ValidationException';
  readonly statusCode = 400;
  constructor(
    message: string,
    readonly fieldList: ValidationExceptionField[] = [],
    readonly reason: ValidationReason = fieldList.length ? 'fieldValidationFailed' : 'other',
  ) {
    super(message);
  }
  override body(): Record<string, unknown> {
    const out: Record<string, unknown> = { message: this.message, reason: this.reason };
    if (this.fieldList.length) out.fieldList = this.fieldList;
    return out;
  }
  /** One ValidationException for a list of field violations, with AWS's summary message. */
  static fromFields(fields: ValidationExceptionField[]): ValidationException {
    const n = fields.length;
    const detail = fields.map((f) => `'${f.name}': ${f.message}`).join('; ');
    return new ValidationException(
      `${n} validation error${n === 1 ? '' : 's'} detected: ${detail}`,
      fields,
      'fieldValidationFailed',
    );
  }
}

export class AccessDeniedException extends AwsError {
  readonly errorType = 'AccessDeniedException';
  readonly statusCode = 403;
}

/** An error about one resource: the shape carries its id and type (spec §1.6). */
abstract class ResourceError extends AwsError {
  constructor(
    message: string,
    readonly resourceId: string,
    readonly resourceType: string,
  ) {
    super(message);
  }
  override body(): Record<string, unknown> {
    return { message: this.message, resourceId: this.resourceId, resourceType: this.resourceType };
  }
}

export class ResourceNotFoundException extends ResourceError {
  readonly errorType = 'ResourceNotFoundException';
  readonly statusCode = 404;
}

export class ConflictException extends ResourceError {
  readonly errorType = 'ConflictException';
  readonly statusCode = 409;
}

/** Note the status: 402, as the real service answers (spec §8.1). */
export class ServiceQuotaExceededException extends AwsError {
  readonly errorType = 'ServiceQuotaExceededException';
  readonly statusCode = 402;
  constructor(
    message: string,
    readonly resourceType: string,
    readonly quotaCode: string,
    readonly resourceId?: string,
    readonly serviceCode = 'vpc-lattice',
  ) {
    super(message);
  }
  override body(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      message: this.message,
      resourceType: this.resourceType,
      serviceCode: this.serviceCode,
      quotaCode: this.quotaCode,
    };
    if (this.resourceId) out.resourceId = this.resourceId;
    return out;
  }
}

export class ThrottlingException extends AwsError {
  readonly errorType = 'ThrottlingException';
  readonly statusCode = 429;
}

export class InternalServerException extends AwsError {
  readonly errorType = 'InternalServerException';
  readonly statusCode = 500;
}

/**
 * Authentication failures of a signed AWS API call, named as AWS endpoints name them. All answer
 * 403 (the issue asks for 403 on every unsigned, mis-signed, expired or unknown-key request).
 */
export class AuthenticationError extends AwsError {
  readonly statusCode = 403;
  constructor(
    readonly errorType:
      | 'MissingAuthenticationTokenException'
      | 'IncompleteSignatureException'
      | 'InvalidSignatureException'
      | 'UnrecognizedClientException'
      | 'ExpiredTokenException'
      | 'InvalidClientTokenId'
      | 'SignatureDoesNotMatch',
    message: string,
  ) {
    super(message);
  }
}

/** An operation that exists in the Lattice API but Trellis does not implement yet. */
export class NotSupportedYet extends ValidationException {
  constructor(operation: string) {
    super(
      `${operation} is not supported by Trellis yet (resource gateways, resource configurations, domain verifications and VPC endpoint associations are planned).`,
      [],
      'unknownOperation',
    );
  }
}
