import type { Snapshot } from '../model/snapshot-types.js';

/**
 * Where the data plane gets its configuration: an immutable Snapshot and a stream of newer ones.
 * The data plane owns this interface; `bin/` wires it to the store (DESIGN.md). A snapshot that
 * fails to compile never replaces the running one.
 */
export interface SnapshotSource {
  /** The newest snapshot, or undefined before the first one is ready. */
  current(): Snapshot | undefined;
  /** Calls `onSnapshot` for every newer snapshot; returns an unsubscribe function. */
  subscribe(onSnapshot: (snapshot: Snapshot) => void): () => void;
}
