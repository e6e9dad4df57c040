import type { EventEmitter } from 'node:events';

/**
 * What a connection handler gets, for migration-aware and plain clients alike.
 *
 * Input arrives as `'data'` events; the kit counts a byte as consumed when its event has been
 * emitted, minus what the handler gives back with `unshift`. `exportSnapshot(state)` records the
 * state as consistent with everything consumed and written so far (M-TCP contract, the server's
 * first promise). On a reincarnated connection `importedState` holds the last snapshot's state,
 * and the kit then replays the input that followed it (the second promise).
 *
 * Events: `data(Buffer)`, `end()` (no more input), `drain()` (write may go on), `close(reason)`.
 */
export interface MtcpSession extends EventEmitter {
  /** Connection id, stable across migrations (a fresh random id for plain clients). */
  readonly id: string;
  /** False for plain TCP clients: snapshots are ignored and the connection cannot migrate. */
  readonly migratory: boolean;
  /** The state of the last snapshot when this connection was migrated here; undefined when new. */
  readonly importedState: unknown;
  /** Output bytes written over the connection's whole life (across members). */
  readonly bytesWritten: number;
  /** Input bytes consumed over the connection's whole life. */
  readonly bytesConsumed: number;
  /** Queues output; false when the unacknowledged bound is reached: wait for `'drain'`. */
  write(data: Buffer | string): boolean;
  /** No more output. */
  end(): void;
  exportSnapshot(state: unknown): void;
  /** Stops `'data'` events (and, past a bound, reading the socket). */
  pause(): void;
  resume(): void;
  readonly isPaused: boolean;
  /** Gives back the tail of the last `'data'` chunk: it was not consumed and comes again. */
  unshift(data: Buffer): void;
  destroy(): void;
  readonly destroyed: boolean;
}

export type SessionCloseReason = 'finished' | 'migrated' | 'abandoned' | 'destroyed' | 'error';

export type ConnectionHandler = (session: MtcpSession) => void | Promise<void>;
