/** Errors of the store room. Managers translate them into AWS exceptions. */

export class StoreConflictError extends Error {
  readonly code = 'STORE_CONFLICT';
  constructor(
    message: string,
    readonly field: 'id' | 'arn' | 'name' | 'revision',
  ) {
    super(message);
  }
}

export class StoreNotFoundError extends Error {
  readonly code = 'STORE_NOT_FOUND';
}

export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';
}
