export * from './access-log-record.js';
export * from './access-log-router.js';
export * from './access-log-delivery.js';
export * from './log-buffer.js';
export * from './log-destination.js';
export * from './metrics.js';
export * from './monitoring.js';
export * from './usage-meter.js';
export { s3ObjectKey } from './s3-destination.js';
