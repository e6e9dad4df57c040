import { nowMs } from '../../common/clock.js';
import { TsmpError } from '../../common/errors.js';
import type { DrainOutcome } from './old-device-drain.js';

export type MigrationState = 'pausing' | 'waiting' | 'attaching' | 'done' | 'rolled-back' | 'failed';

/** Moments of a migration, epoch ms; a phase is absent until reached. */
export interface MigrationPhases {
  requested?: number;
  paused?: number;
  waiting?: number;
  /** The target's TCP connection was accepted. */
  targetConnected?: number;
  /** The target's SOCKS5 / CONNECT handshake is done; from here the old device is let go (drain). */
  handshakeDone?: number;
  /** The old device is let go (drained, stalled or lost): the cut follows at once. */
  attached?: number;
  firstByte?: number;
  /** The server side is read again: the server's window reopens (the paper's migration end). */
  resumed?: number;
  done?: number;
  rolledBack?: number;
  failed?: number;
}

export class MigrationStateError extends TsmpError {
  constructor(from: MigrationState, to: MigrationState) {
    super('ERR_MIGRATION_STATE', `a migration cannot go from ${from} to ${to}`);
  }
}

/** The only transitions a migration may take (DESIGN.md invariant 4: every path ends). */
const NEXT: Record<MigrationState, readonly MigrationState[]> = {
  pausing: ['waiting', 'failed'],
  waiting: ['attaching', 'rolled-back', 'failed'],
  attaching: ['done', 'failed'],
  done: [],
  'rolled-back': [],
  failed: [],
};

export interface MigrationInit {
  id: string;
  connection: string;
  uid: string;
  from: string | null;
  to: string;
  destination: string;
  ticket: string;
  expiresAt: number;
  snapshot?: unknown;
}

/** One move of a connection to another device: the record the control API shows. */
export class Migration {
  readonly id: string;
  readonly connection: string;
  readonly uid: string;
  readonly from: string | null;
  readonly to: string;
  readonly destination: string;
  readonly ticket: string;
  readonly expiresAt: number;
  readonly snapshot: unknown;
  state: MigrationState = 'pausing';
  readonly phases: MigrationPhases = { requested: nowMs() };
  /** Server bytes the holder had not acknowledged when the server was paused. */
  bytesCached = 0;
  /** Bytes the new device was given from the cache (0 when the old device drained). */
  bytesReplayed = 0;
  fromOffset: number | null = null;
  /** How the old device was let go: `fin` after acknowledging everything, `reset`, or `lost`. */
  oldDevice: 'fin' | 'reset' | 'lost' | null = null;
  /** Why the wait for the old device ended (old-device-drain.ts). */
  drainOutcome: DrainOutcome | null = null;
  /**
   * Bytes sent to the old device but not acknowledged when it was cut: they may reach it and
   * are replayed to the new device as well, so they may be delivered twice. 0 after a FIN; null
   * when the old device was lost before (its last in-flight count is unknown).
   */
  bytesInDoubt: number | null = null;
  error: string | undefined;

  constructor(init: MigrationInit) {
    this.id = init.id;
    this.connection = init.connection;
    this.uid = init.uid;
    this.from = init.from;
    this.to = init.to;
    this.destination = init.destination;
    this.ticket = init.ticket;
    this.expiresAt = init.expiresAt;
    this.snapshot = init.snapshot;
  }

  get finished(): boolean {
    return NEXT[this.state].length === 0;
  }

  transition(to: MigrationState): void {
    if (!NEXT[this.state].includes(to)) throw new MigrationStateError(this.state, to);
    this.state = to;
  }

  mark(phase: keyof MigrationPhases, at = nowMs()): void {
    this.phases[phase] = at;
  }

  /** The JSON the control API returns; the ticket only to the requester. */
  toJSON(withTicket = false): Record<string, unknown> {
    const p = this.phases;
    const since = (a?: number, b?: number) => (a !== undefined && b !== undefined ? b - a : undefined);
    return {
      id: this.id,
      connection: this.connection,
      from: this.from,
      to: this.to,
      destination: this.destination,
      state: this.state,
      ...(withTicket ? { ticket: this.ticket, expiresAt: new Date(this.expiresAt).toISOString() } : {}),
      phases: { ...p },
      timings: {
        pauseMs: since(p.requested, p.paused),
        waitMs: since(p.waiting, p.targetConnected),
        connectToFirstByteMs: since(p.targetConnected, p.firstByte),
        connectToResumeMs: since(p.targetConnected, p.resumed),
        requestToResumeMs: since(p.requested, p.resumed),
      },
      bytesCached: this.bytesCached,
      bytesReplayed: this.bytesReplayed,
      fromOffset: this.fromOffset,
      oldDevice: this.oldDevice,
      drainOutcome: this.drainOutcome,
      bytesInDoubt: this.bytesInDoubt,
      ...(this.snapshot !== undefined ? { snapshot: this.snapshot } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
  }
}
