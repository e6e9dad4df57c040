import type { SnapshotRecord } from './snapshot-record.js';
import type { SnapshotStore } from './snapshot-store.js';

export const DEFAULT_MEMORY_STORE_ENTRIES = 100_000;

/**
 * Records in this process only: lazy transfer. Bounded by entry count (oldest dropped first,
 * Map keeps insertion order).
 */
export class MemorySnapshotStore implements SnapshotStore {
  readonly kind: 'memory' | 'push' = 'memory';
  readonly eager: boolean = false;
  protected readonly records = new Map<string, SnapshotRecord>();

  constructor(private readonly maxEntries = DEFAULT_MEMORY_STORE_ENTRIES) {}

  /** Keeps the newest by seq; a late, older record never replaces a newer one. */
  put(record: SnapshotRecord): void {
    const old = this.records.get(record.cid);
    if (old && old.seq > record.seq) return;
    this.records.delete(record.cid);
    this.records.set(record.cid, record);
    while (this.records.size > this.maxEntries) {
      const oldest = this.records.keys().next().value as string;
      this.records.delete(oldest);
    }
  }

  async save(record: SnapshotRecord): Promise<void> {
    this.put(record);
  }
  async load(cid: string): Promise<unknown | undefined> {
    return this.records.get(cid);
  }
  async delete(cid: string): Promise<void> {
    this.records.delete(cid);
  }
  async close(): Promise<void> {
    this.records.clear();
  }
  get size(): number {
    return this.records.size;
  }
}
