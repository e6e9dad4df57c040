import type { SnapshotRecord } from './snapshot-record.js';

/**
 * Where a member keeps snapshot records. `save` resolves once the record is as durable as this
 * store makes it (in memory; acknowledged by the peers; written to Redis); only then does the
 * member tell the client it may drop the input the snapshot covers (COMMIT frame).
 *
 * `eager` stores make a snapshot reachable without its owner (M-TCP "eager transfer");
 * the memory store is lazy: a new member fetches the state from the old one on demand.
 */
export interface SnapshotStore {
  readonly kind: 'memory' | 'push' | 'redis';
  readonly eager: boolean;
  save(record: SnapshotRecord): Promise<void>;
  /** The newest record known for `cid` (raw: the caller opens and checks the seal). */
  load(cid: string): Promise<unknown | undefined>;
  delete(cid: string): Promise<void>;
  close(): Promise<void>;
}
