import { ConfigError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { PoolMemberInfo } from '../wire/control-messages.js';
import type { ThroughputPolicyOptions } from './throughput-policy.js';

export interface MtcpClientOptions {
  /** First contact: one member's `host:port`. Either this or `members`. */
  address?: string;
  /** First contact candidates, tried in order (e.g. from the pool file). */
  members?: PoolMemberInfo[];
  /** Bound on each TCP connect + hello. @default 3000 */
  handshakeTimeoutMs?: number;
  /** Migrate when the server has sent nothing (not even a heartbeat) for this long; 0 = never. @default 3000 */
  silenceTimeoutMs?: number;
  /** Migrate by itself when the server side resets or falls silent. @default true */
  autoMigrate?: boolean;
  /** Members tried per migration before giving up. @default 2 × pool size */
  maxAttempts?: number;
  /**
   * Pause before trying the pool's members a second time in one migration (the first round goes
   * without pause); doubled each further round, at most `maxRetryDelayMs`. @default 100
   */
  retryDelayMs?: number;
  /** @default 1000 */
  maxRetryDelayMs?: number;
  /**
   * Keep one idle, already-connected TCP connection to the member the next migration would go
   * to, so that a migration there costs one RTT plus the state transfer (docs/mtcp.md, "Standby
   * connection"). At most one per connection; closed with it. @default true
   */
  standby?: boolean;
  /**
   * A standby that failed or was closed by its member is re-opened after `retryDelayMs`, doubled
   * on each further failure up to this. @default 30_000
   */
  standbyMaxRetryMs?: number;
  /** An ACK goes out after this many received bytes... @default 65536 */
  ackBytes?: number;
  /** ...or this long after the first unacknowledged byte. @default 20 */
  ackDelayMs?: number;
  /** Bound on input kept until a snapshot covers it (write waits past it). @default 8 MiB */
  inputLimit?: number;
  /** Migration by policy (paper: throughput below a fraction of the maximum observed); off when absent. */
  policy?: ThroughputPolicyOptions;
  /** @default 8 MiB */
  maxFrameBytes?: number;
  /** Readable side's buffer (bytes handed over but not yet read by the application). @default 256 KiB */
  readHighWaterMark?: number;
  /**
   * Output the client keeps reading off the socket while the application is paused or its buffer
   * is full, so control frames (CERT refreshes, heartbeats) still arrive, as HTTP/2 and QUIC
   * endpoints keep reading their transport up to the flow-control window they advertise. Such
   * bytes are not acknowledged until the application takes them, so the member stops at its own
   * window (`outputHighWater`, 4 MiB by default). Past this bound the socket is no longer read.
   * Keep it above the pool's `outputHighWater`. @default 8 MiB
   */
  heldOutputLimit?: number;
  logger?: Logger;
}

export const CLIENT_DEFAULTS = {
  handshakeTimeoutMs: 3000,
  silenceTimeoutMs: 3000,
  autoMigrate: true,
  retryDelayMs: 100,
  maxRetryDelayMs: 1000,
  standby: true,
  standbyMaxRetryMs: 30_000,
  ackBytes: 64 * 1024,
  ackDelayMs: 20,
  inputLimit: 8 << 20,
  maxFrameBytes: 8 << 20,
  readHighWaterMark: 256 * 1024,
  heldOutputLimit: 8 << 20,
} as const;

export type ResolvedClientOptions = typeof CLIENT_DEFAULTS & Omit<MtcpClientOptions, keyof typeof CLIENT_DEFAULTS>;

export function resolveClientOptions(o: MtcpClientOptions): ResolvedClientOptions & { autoMigrate: boolean } {
  if (!o.address && !(o.members && o.members.length > 0)) throw new ConfigError('mtcp client needs an address or members');
  const r = { ...CLIENT_DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as ResolvedClientOptions & { autoMigrate: boolean };
  for (const k of ['handshakeTimeoutMs', 'ackBytes', 'inputLimit', 'maxFrameBytes', 'readHighWaterMark', 'heldOutputLimit'] as const) {
    if (!(r[k] > 0)) throw new ConfigError(`mtcp client option ${k} must be positive`);
  }
  if (r.silenceTimeoutMs < 0 || r.ackDelayMs < 0 || r.retryDelayMs < 0 || r.maxRetryDelayMs < 0 || !(r.standbyMaxRetryMs > 0)) throw new ConfigError('mtcp client timeouts must not be negative');
  return r;
}
