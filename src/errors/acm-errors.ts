import { AwsError } from './aws-errors.js';

/** Error types of the AWS Certificate Manager subset Trellis answers (awsJson1_1). */
export type AcmErrorType =
  | 'ValidationException'
  | 'InvalidArnException'
  | 'ResourceNotFoundException'
  | 'ResourceInUseException'
  | 'LimitExceededException'
  | 'InvalidParameterException'
  | 'InvalidTagException'
  | 'RequestInProgressException'
  | 'InvalidArgsException';

/** An ACM error: `{ __type, message }` body and status 400, as ACM's JSON protocol answers. */
export class AcmError extends AwsError {
  readonly statusCode = 400;
  constructor(
    readonly errorType: AcmErrorType,
    message: string,
  ) {
    super(message);
  }
  override body(): Record<string, unknown> {
    return { __type: this.errorType, message: this.message };
  }
}
