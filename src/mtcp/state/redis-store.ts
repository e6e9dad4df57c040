import { Redis } from 'ioredis';
import type { SnapshotRecord } from './snapshot-record.js';
import type { SnapshotStore } from './snapshot-store.js';

export interface RedisStoreOptions {
  /** @default "tsmp:mtcp:" */
  prefix?: string;
  /** Records expire after this long without a newer snapshot. @default 3_600_000 */
  ttlMs?: number;
  /** Bound on each command (ioredis commandTimeout). @default 2000 */
  commandTimeoutMs?: number;
}

/**
 * Eager transfer across machines: each snapshot is written to Redis as it is taken, so a member
 * on another machine finds it even when its owner is dead. A Lua script keeps the newest record
 * (by seq) so a delayed write never replaces a newer snapshot.
 */
const SET_IF_NEWER = `
local cur = redis.call('HGET', KEYS[1], 'seq')
if cur and tonumber(cur) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'record', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

export class RedisSnapshotStore implements SnapshotStore {
  readonly kind = 'redis' as const;
  readonly eager = true;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(url: string, opts: RedisStoreOptions = {}) {
    this.prefix = opts.prefix ?? 'tsmp:mtcp:';
    this.ttlMs = opts.ttlMs ?? 3_600_000;
    this.redis = new Redis(url, {
      commandTimeout: opts.commandTimeoutMs ?? 2000,
      maxRetriesPerRequest: 1,
      lazyConnect: false,
      enableOfflineQueue: true,
    });
    // Connection errors surface on the commands; without a listener ioredis would log them.
    this.redis.on('error', () => {});
  }

  private key(cid: string): string {
    return `${this.prefix}snap:${cid}`;
  }

  async save(record: SnapshotRecord): Promise<void> {
    await this.redis.eval(SET_IF_NEWER, 1, this.key(record.cid), String(record.seq), JSON.stringify(record), String(this.ttlMs));
  }

  async load(cid: string): Promise<unknown | undefined> {
    const text = await this.redis.hget(this.key(cid), 'record');
    return text === null ? undefined : (JSON.parse(text) as unknown);
  }

  async delete(cid: string): Promise<void> {
    await this.redis.del(this.key(cid));
  }

  /** For tests and tools: the raw client. */
  get client(): Redis {
    return this.redis;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
