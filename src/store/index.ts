export type * from './store.js';
export * from './store-errors.js';
export { createSqliteStore, SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
