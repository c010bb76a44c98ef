import { AwsError } from './aws-errors.js';

/** The error types of the AWS Lambda API Trellis answers (REST-JSON, `x-amzn-ErrorType`). */
export type LambdaErrorType =
  | 'ResourceNotFoundException'
  | 'ResourceConflictException'
  | 'InvalidParameterValueException'
  | 'InvalidRequestContentException'
  | 'RequestTooLargeException'
  | 'TooManyRequestsException'
  | 'ServiceException';

const STATUS: Record<LambdaErrorType, number> = {
  ResourceNotFoundException: 404,
  ResourceConflictException: 409,
  InvalidParameterValueException: 400,
  InvalidRequestContentException: 400,
  RequestTooLargeException: 413,
  TooManyRequestsException: 429,
  ServiceException: 500,
};

/** A Lambda API error: Lambda's body shape `{ Type, message }` and its status code. */
export class LambdaError extends AwsError {
  readonly statusCode: number;
  constructor(
    readonly errorType: LambdaErrorType,
    message: string,
  ) {
    super(message);
    this.statusCode = STATUS[errorType];
  }
  override body(): Record<string, unknown> {
    return {
      Type: this.errorType === 'ServiceException' ? 'Service' : 'User',
      message: this.message,
    };
  }
}
