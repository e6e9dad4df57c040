import { ConfigError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { SnapshotStore } from '../state/snapshot-store.js';
import type { PoolConfig } from './pool-config.js';
import type { ConnectionHandler } from './session-types.js';

export interface MtcpServerOptions {
  pool: PoolConfig;
  /** This member's id in the pool. */
  id: string;
  handler: ConnectionHandler;
  /** Where to listen; @default this member's address in the pool */
  listen?: string;
  /** @default built from `pool.store` (state/store-factory.ts) */
  store?: SnapshotStore;
  logger?: Logger;
  /** Migration certificate lifetime; refreshed over the connection at half-life. @default 60_000 */
  certTtlMs?: number;
  /** A HEARTBEAT goes out after this much quiet. @default 500 */
  heartbeatMs?: number;
  /** How long a session whose client vanished waits for a resume or a lazy fetch. @default 30_000 */
  orphanRetentionMs?: number;
  /**
   * write() returns false past this much unacknowledged output. It is the kit's flow-control
   * window, so it should cover the path's bandwidth × (RTT + the client's ACK delay). @default 4 MiB
   */
  outputHighWater?: number;
  /** Hard bound on unacknowledged output per connection. @default 16 MiB */
  outputLimit?: number;
  /** @default 1 MiB */
  inputQueueLimit?: number;
  /** @default 1 MiB */
  inputLogLimit?: number;
  /** Bound on a lazy fetch from the old member. @default 2000 */
  fetchTimeoutMs?: number;
  /** Bound on an eager push to one peer. @default 1000 */
  pushTimeoutMs?: number;
  /**
   * A snapshot save that failed (eager stores: no other member acknowledged it, or Redis did not
   * answer) is tried again, with the newest snapshot, after this long. @default 100
   */
  saveRetryMs?: number;
  /**
   * Eager stores: saves of one connection's snapshots are at least this far apart; snapshots
   * taken in between only replace the one waiting (the newest is saved when the interval ends).
   * Each save carries the unacknowledged output, so this bounds the push/Redis traffic of a fast
   * stream; the price is up to this much more output regenerated after a crash. 0 = back to back.
   * @default 20
   */
  saveIntervalMs?: number;
  /** A client must finish its hello within this, counted from its first byte. @default 5000 */
  helloTimeoutMs?: number;
  /**
   * A connection that has not sent a single byte yet is closed after this long. Such a
   * connection is typically an M-TCP client's standby (kept open, idle, to take a migration in
   * one RTT; the client opens a new one when this closes it). @default 120_000
   */
  idleBeforeHelloMs?: number;
  /** @default 8 MiB */
  maxFrameBytes?: number;
}

export type ResolvedServerOptions = Required<Omit<MtcpServerOptions, 'store' | 'logger' | 'listen'>> &
  Pick<MtcpServerOptions, 'store' | 'logger' | 'listen'>;

export const SERVER_DEFAULTS = {
  certTtlMs: 60_000,
  heartbeatMs: 500,
  orphanRetentionMs: 30_000,
  outputHighWater: 4 << 20,
  outputLimit: 16 << 20,
  inputQueueLimit: 1 << 20,
  inputLogLimit: 1 << 20,
  fetchTimeoutMs: 2000,
  pushTimeoutMs: 1000,
  saveRetryMs: 100,
  saveIntervalMs: 20,
  helloTimeoutMs: 5000,
  idleBeforeHelloMs: 120_000,
  maxFrameBytes: 8 << 20,
} as const;

export function resolveServerOptions(o: MtcpServerOptions): ResolvedServerOptions {
  const r = { ...SERVER_DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as ResolvedServerOptions;
  for (const k of Object.keys(SERVER_DEFAULTS) as (keyof typeof SERVER_DEFAULTS)[]) {
    if (!Number.isFinite(r[k]) || r[k] < 0 || (r[k] === 0 && k !== 'saveIntervalMs')) throw new ConfigError(`mtcp server option ${k} must be a positive number`);
  }
  if (r.outputHighWater > r.outputLimit) throw new ConfigError('outputHighWater must not exceed outputLimit');
  if (typeof r.handler !== 'function') throw new ConfigError('mtcp server needs a handler');
  return r;
}
