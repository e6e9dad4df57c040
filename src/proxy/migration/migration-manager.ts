import { randomBytes } from 'node:crypto';
import type { Logger } from '../../common/logger.js';
import type { DeviceIdentity } from '../auth/device-authenticator.js';
import type { ConnectionRegistry } from '../registry/connection-registry.js';
import type { AttachingDevice, RelayConnection } from '../relay/relay-connection.js';
import { conflict, notFound } from './errors.js';
import { Migration } from './migration.js';
import { drainOldDevice } from './old-device-drain.js';

export interface MigrationOptions {
  /** A migration not attached within this rolls back (or ends the connection). */
  migrationTimeoutMs: number;
  /**
   * An attach waits for a still-connected old device while its acknowledged count advances
   * (old-device-drain.ts); it is cut when nothing new was acknowledged for this long (or for
   * `drainStallRtts` of its RTTs, whichever is longer).
   */
  drainWaitMs: number;
  /** @default 2 */
  drainStallRtts?: number;
  /** Finished migrations kept for `GET /v1/migrations/{id}`. */
  historySize: number;
  /** Leading hex digit(s) of migration ids, naming the worker process. @default '' */
  idPrefix?: string;
}

/** Told of every new migration, e.g. to push a Migration-To-Request to the target's agent. */
export type MigrationListener = (migration: Migration, conn: RelayConnection) => void;

/**
 * Runs migrations (paper section IV.B; DESIGN.md "The data plane"): pause the server side, hand
 * out a single-use ticket bound to the target device, attach the target when it connects, or
 * roll back when it does not.
 */
export class MigrationManager {
  private readonly migrations = new Map<string, Migration>();
  private readonly byTicket = new Map<string, Migration>();
  private readonly active = new Map<string, Migration>(); // by connection id
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly cleanups = new Map<string, () => void>();
  readonly listeners: MigrationListener[] = [];
  /** Told when a migration reaches an end state (done, rolled back, failed). */
  readonly finishedListeners: ((migration: Migration) => void)[] = [];
  counts = { started: 0, done: 0, rolledBack: 0, failed: 0 };
  /** Callers of `whenFinished` still waiting, by migration id. */
  private readonly finishWaiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly options: MigrationOptions,
    private readonly log: Logger,
  ) {}

  get(id: string): Migration | undefined {
    return this.migrations.get(id);
  }

  /** The user's migrations, newest first. */
  recentOf(uid: string, limit = 50): Migration[] {
    return [...this.migrations.values()].filter((m) => m.uid === uid).reverse().slice(0, limit);
  }

  /** Migration-From-Request: starts moving `conn` to device `to` of the same user. */
  start(conn: RelayConnection, to: DeviceIdentity, snapshot?: unknown): Migration {
    if (conn.state === 'closed') throw conflict('ERR_CONNECTION_CLOSED', `connection ${conn.id} is closed`);
    if (this.active.has(conn.id)) throw conflict('ERR_MIGRATION_IN_PROGRESS', `connection ${conn.id} is already migrating`);
    const holder = conn.device?.identity.did ?? null;
    if (holder === to.did) throw conflict('ERR_SAME_DEVICE', `connection ${conn.id} is already on ${to.did}`);
    const m = new Migration({
      id: `m${((this.options.idPrefix ?? '') + randomBytes(5).toString('hex')).slice(0, 10)}`,
      connection: conn.id,
      uid: conn.uid,
      from: holder,
      to: to.did,
      destination: conn.destination,
      ticket: randomBytes(16).toString('hex'),
      expiresAt: Date.now() + this.options.migrationTimeoutMs,
      snapshot,
    });
    this.counts.started++;
    this.remember(m);
    this.active.set(conn.id, m);
    this.byTicket.set(m.ticket, m);
    conn.pause();
    m.mark('paused');
    m.bytesCached = conn.bytesCached;
    m.transition('waiting');
    m.mark('waiting');
    this.timers.set(m.id, setTimeout(() => this.expire(m, conn), this.options.migrationTimeoutMs));
    const onClosed = () => this.fail(m, 'connection closed during migration');
    conn.once('closed', onClosed);
    this.cleanups.set(m.id, () => conn.off('closed', onClosed));
    this.log.info({ migration: m.id, conn: conn.id, from: m.from, to: m.to }, 'migration waiting for target');
    for (const listener of this.listeners) listener(m, conn);
    return m;
  }

  /**
   * The migration an arriving device connection should attach to, if any: by ticket (explicit
   * attach), or because the target device connects to the connection's destination. A ticket
   * works only for its target device, once, before it expires.
   */
  match(identity: DeviceIdentity, destination: string, ticket: string | undefined): Migration | undefined {
    if (ticket !== undefined) {
      const m = this.byTicket.get(ticket);
      if (!m || m.to !== identity.did || m.state !== 'waiting' || Date.now() > m.expiresAt) return undefined;
      return m;
    }
    for (const m of this.active.values()) {
      if (m.state === 'waiting' && m.to === identity.did && m.destination === destination) return m;
    }
    return undefined;
  }

  /** Attaches the target device; resolves when the server side is read again. */
  async attach(m: Migration, target: AttachingDevice, connectedAt: number): Promise<void> {
    const conn = this.registry.get(m.connection);
    if (!conn || m.state !== 'waiting') throw conflict('ERR_MIGRATION_STATE', `migration ${m.id} is ${m.state}`);
    m.transition('attaching');
    this.byTicket.delete(m.ticket);
    m.mark('targetConnected', connectedAt);
    m.mark('handshakeDone');
    // A live old device drains while it makes progress, and then gets a FIN: nothing it was sent
    // is replayed, so nothing reaches the user twice (old-device-drain.ts).
    const outcome = conn.device
      ? await drainOldDevice(conn, {
          stallFloorMs: this.options.drainWaitMs,
          stallRtts: this.options.drainStallRtts ?? 2,
          pollMs: 2,
          deadline: m.expiresAt,
        })
      : 'lost';
    if ((m.state as string) !== 'attaching' || conn.state === 'closed') {
      throw conflict('ERR_MIGRATION_STATE', `migration ${m.id} ended while attaching`);
    }
    m.mark('attached');
    // Read in the same tick as the cut: what is on the wire now may or may not arrive.
    const old = conn.device;
    const drained = old !== null && conn.holderDrained();
    m.oldDevice = old === null ? 'lost' : drained ? 'fin' : 'reset';
    m.drainOutcome = drained ? 'drained' : outcome;
    m.bytesInDoubt = old === null ? null : drained ? 0 : old.bytesInFlight();
    const cut = conn.cutover(target);
    m.fromOffset = cut.fromOffset;
    m.bytesReplayed = cut.bytesReplayed;
    m.mark('firstByte', cut.firstByteAt);
    m.mark('resumed');
    m.transition('done');
    m.mark('done');
    this.counts.done++;
    this.finish(m);
    this.log.info({ migration: m.id, conn: conn.id, fromOffset: cut.fromOffset, replayed: cut.bytesReplayed, oldDevice: m.oldDevice, inDoubt: m.bytesInDoubt }, 'migration done');
  }

  /** Timeout: roll back to the old device if it is still there, else end the connection. */
  private expire(m: Migration, conn: RelayConnection): void {
    if (m.state !== 'waiting') return;
    if (conn.rollback()) {
      m.transition('rolled-back');
      m.mark('rolledBack');
      m.error = 'target did not attach in time';
      this.counts.rolledBack++;
      this.finish(m);
      this.log.info({ migration: m.id }, 'migration rolled back');
      return;
    }
    this.fail(m, 'target did not attach in time and the old device is gone');
    conn.close('migration failed');
  }

  fail(m: Migration, reason: string): void {
    if (m.finished) return;
    m.transition('failed');
    m.mark('failed');
    m.error = reason;
    this.counts.failed++;
    this.finish(m);
  }

  /**
   * Resolves when `m` reaches an end state, or after `timeoutMs`, whichever comes first (the
   * control API's blocking `GET /v1/migrations/{id}?wait=MS`, as Consul's blocking queries).
   */
  whenFinished(m: Migration, timeoutMs: number): Promise<void> {
    if (m.finished || timeoutMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      let waiters = this.finishWaiters.get(m.id);
      if (!waiters) this.finishWaiters.set(m.id, (waiters = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.finishWaiters.get(m.id) === waiters) this.finishWaiters.delete(m.id);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      waiters.add(done);
    });
  }

  private finish(m: Migration): void {
    for (const done of [...(this.finishWaiters.get(m.id) ?? [])]) done();
    clearTimeout(this.timers.get(m.id));
    this.timers.delete(m.id);
    this.cleanups.get(m.id)?.();
    this.cleanups.delete(m.id);
    this.byTicket.delete(m.ticket);
    if (this.active.get(m.connection) === m) this.active.delete(m.connection);
    for (const listener of this.finishedListeners) listener(m);
  }

  private remember(m: Migration): void {
    this.migrations.set(m.id, m);
    if (this.migrations.size <= this.options.historySize) return;
    for (const [id, old] of this.migrations) {
      if (this.migrations.size <= this.options.historySize) break;
      if (old.finished) this.migrations.delete(id);
    }
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const waiters of [...this.finishWaiters.values()]) for (const done of [...waiters]) done();
  }
}
