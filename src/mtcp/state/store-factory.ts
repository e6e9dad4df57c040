import { MemorySnapshotStore } from './memory-store.js';
import { PushSnapshotStore } from './push-store.js';
import { RedisSnapshotStore } from './redis-store.js';
import type { SnapshotStore } from './snapshot-store.js';

/** `store` of the pool file → a store: "memory" (lazy), "push" (eager to peers), redis:// (eager). */
export function createSnapshotStore(spec: string, memberId: string): SnapshotStore {
  if (spec === 'memory') return new MemorySnapshotStore();
  if (spec === 'push') return new PushSnapshotStore();
  // One key space per pool is enough: records are keyed by connection id and sealed.
  void memberId;
  return new RedisSnapshotStore(spec);
}
