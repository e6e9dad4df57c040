import { nowMs } from '../../common/clock.js';
import { TsmpError } from '../../common/errors.js';

export type MigrationState = 'pausing' | 'waiting' | 'attaching' | 'done' | 'rolled-back' | 'failed';

/** Moments of a migration, epoch ms; a phase is absent until reached. */
export interface MigrationPhases {
  requested?: number;
  paused?: number;
  waiting?: number;
  /** The target's TCP connection was accepted. */
  targetConnected?: number;
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
  bytesCached = 0;
  bytesReplayed = 0;
  fromOffset: number | null = null;
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
      ...(this.snapshot !== undefined ? { snapshot: this.snapshot } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
  }
}
