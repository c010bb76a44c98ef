import { createDataPlane, type DataPlane, type DataPlaneOptions } from '../data-plane.js';
import type { RequestRecord } from '../request-record.js';
import type { SnapshotBuilder } from './snapshot-builder.js';
import { TestSnapshotSource } from './snapshot-builder.js';

export interface Plane {
  plane: DataPlane;
  source: TestSnapshotSource;
  records: RequestRecord[];
  /**
   * The first record that `match` accepts, waiting for it: a record is made as the response ends,
   * which a client may see a moment before the proxy does on a loaded machine.
   */
  record(match: (r: RequestRecord) => boolean, timeoutMs?: number): Promise<RequestRecord>;
  /** Pushes the builder's next snapshot and waits until it serves. */
  publish(b: SnapshotBuilder): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a data plane on the builder's current snapshot, recording every access-log record. */
export async function startPlane(
  b: SnapshotBuilder,
  options: Partial<DataPlaneOptions> = {},
): Promise<Plane> {
  const source = new TestSnapshotSource();
  source.push(b.build());
  const records: RequestRecord[] = [];
  const plane = createDataPlane({
    snapshotSource: source,
    onRequestComplete: (r) => records.push(r),
    timeouts: { drainMs: 500, ...options.timeouts },
    ...options,
  });
  await plane.start();
  return {
    plane,
    source,
    records,
    async record(match, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = records.find(match);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error('no access-log record matched in time');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async publish(builder) {
      const s = builder.build();
      source.push(s);
      await plane.whenRevision(s.revision);
    },
    stop: () => plane.stop(),
  };
}
