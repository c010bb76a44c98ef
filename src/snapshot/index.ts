export {
  SnapshotBuilder,
  createSnapshotBuilder,
  type SnapshotBuilderOptions,
} from './snapshot-builder.js';
