export * from './aws-errors.js';
export * from './dataplane-outcomes.js';
