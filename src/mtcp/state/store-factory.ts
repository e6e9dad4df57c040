import { MemorySnapshotStore } from './memory-store.js';
import { PushSnapshotStore } from './push-store.js';
import type { SnapshotStore } from './snapshot-store.js';

/**
 * `store` of the pool file → a store: "memory" (lazy), "push" (eager to peers), redis:// (eager).
 * ioredis is loaded only for a Redis pool, which keeps a member's start fast otherwise.
 */
export async function createSnapshotStore(spec: string): Promise<SnapshotStore> {
  if (spec === 'memory') return new MemorySnapshotStore();
  if (spec === 'push') return new PushSnapshotStore();
  const { RedisSnapshotStore } = await import('./redis-store.js');
  return new RedisSnapshotStore(spec);
}
