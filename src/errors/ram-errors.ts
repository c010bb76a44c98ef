import { AwsError } from './aws-errors.js';

/**
 * Error types of the AWS RAM subset Trellis answers (restJson1: `x-amzn-ErrorType` header and a
 * `{ message }` body), with the HTTP statuses of the RAM model.
 */
export type RamErrorType =
  | 'IdempotentParameterMismatchException'
  | 'InvalidClientTokenException'
  | 'InvalidMaxResultsException'
  | 'InvalidNextTokenException'
  | 'InvalidParameterException'
  | 'InvalidResourceTypeException'
  | 'InvalidStateTransitionException'
  | 'MalformedArnException'
  | 'MissingRequiredParameterException'
  | 'OperationNotPermittedException'
  | 'ResourceArnNotFoundException'
  | 'ResourceShareInvitationAlreadyAcceptedException'
  | 'ResourceShareInvitationAlreadyRejectedException'
  | 'ResourceShareInvitationArnNotFoundException'
  | 'ResourceShareInvitationExpiredException'
  | 'ResourceShareLimitExceededException'
  | 'TagLimitExceededException'
  | 'UnknownResourceException';

/** A RAM error: every modelled client error of RAM is HTTP 400 (spec: RAM API model). */
export class RamError extends AwsError {
  readonly statusCode = 400;
  constructor(
    readonly errorType: RamErrorType,
    message: string,
  ) {
    super(message);
  }
}
