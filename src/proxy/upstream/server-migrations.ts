import { randomBytes } from 'node:crypto';
import type { Logger } from '../../common/logger.js';
import type { MtcpClientConnection } from '../../mtcp/client/client-connection.js';
import type { MigrationTrigger, ServerMigrationRecord } from '../../mtcp/client/migration-record.js';
import { ControlRequestError, conflict, notFound } from '../migration/errors.js';

/** A relayed connection as far as this registry cares. */
export interface TrackedRelay {
  readonly id: string;
  readonly uid: string;
  once(event: 'closed', listener: () => void): unknown;
}

/** What `GET /v1/connections` adds for a connection whose server side is an M-TCP pool. */
export interface MtcpConnectionView {
  /** The pool's connection id (the certificate is bound to it). */
  cid: string;
  /** The member serving the connection now. */
  member: string;
  memberAddress: string | null;
  members: string[];
  /** `established`, or `migrating` while a server migration runs. */
  state: string;
  serverMigrations: number;
}

/**
 * One server migration as the control API shows it: the kit's record (updated in place while it
 * runs, docs/mtcp.md "The migration record") under a proxy id, with the proxy's connection id.
 */
export type ServerMigrationView = Omit<ServerMigrationRecord, 'connection' | 'id'> & {
  id: string;
  kind: 'server';
  /** The proxy's connection id (as in `/v1/connections`). */
  connection: string;
  /** The pool's connection id, and the kit's own id of this record. */
  cid: string;
  recordId: string;
};

export type ServerMigrationEvent = 'started' | 'done' | 'failed';
export type ServerMigrationObserver = (event: ServerMigrationEvent, record: ServerMigrationRecord) => void;

interface Entry {
  id: string;
  uid: string;
  relay: string;
  record: ServerMigrationRecord;
}

/**
 * The proxy's M-TCP connections and their server migrations (on demand, on failure, by policy),
 * kept for `GET /v1/migrations/{id}` after the connection is gone, like device migrations.
 * Ids are `s` + the worker's prefix + random hex, so the primary of `--workers N` finds the
 * worker from the id's second character, as for device migrations' `m` ids.
 */
export class ServerMigrationRegistry {
  private readonly live = new Map<string, { conn: MtcpClientConnection; uid: string }>();
  private readonly entries = new Map<string, Entry>();
  private readonly ofRecord = new WeakMap<ServerMigrationRecord, Entry>();
  readonly observers: ServerMigrationObserver[] = [];
  counts: Record<MigrationTrigger, Record<ServerMigrationEvent, number>> = {
    demand: { started: 0, done: 0, failed: 0 },
    failure: { started: 0, done: 0, failed: 0 },
    policy: { started: 0, done: 0, failed: 0 },
  };

  constructor(
    private readonly options: { idPrefix: string; historySize: number },
    private readonly log: Logger,
  ) {}

  /** Number of live M-TCP connections. */
  get size(): number {
    return this.live.size;
  }

  /** Watches an M-TCP connection for as long as its relay lives. Call in the tick it was dialled. */
  track(relay: TrackedRelay, conn: MtcpClientConnection): void {
    this.live.set(relay.id, { conn, uid: relay.uid });
    const onMigration = (record: ServerMigrationRecord): void => {
      const entry = this.remember(relay, record);
      this.bump(record, 'started');
      this.log.info({ conn: relay.id, migration: entry.id, trigger: record.trigger, reason: record.reason, from: record.from, to: record.to }, 'server migration started');
    };
    const onMigrated = (record: ServerMigrationRecord): void => {
      this.bump(record, 'done');
      this.log.info({ conn: relay.id, from: record.from, to: record.to, resumeMs: record.timings.resumeMs, transfer: record.transfer }, 'server migration done');
    };
    const onFailed = (record: ServerMigrationRecord): void => {
      this.bump(record, 'failed');
      this.log.warn({ conn: relay.id, from: record.from, error: record.error?.message }, 'server migration failed');
    };
    conn.on('migration', onMigration);
    conn.on('migrated', onMigrated);
    conn.on('migration-failed', onFailed);
    relay.once('closed', () => {
      this.live.delete(relay.id);
      conn.off('migration', onMigration);
      conn.off('migrated', onMigrated);
      conn.off('migration-failed', onFailed);
    });
  }

  isMtcp(relayId: string): boolean {
    return this.live.has(relayId);
  }

  describe(relayId: string): MtcpConnectionView | null {
    const l = this.live.get(relayId);
    if (!l) return null;
    const c = l.conn;
    return {
      cid: c.cid,
      member: c.member,
      memberAddress: c.members.find((m) => m.id === c.member)?.address ?? null,
      members: c.members.map((m) => m.id),
      state: c.connState,
      serverMigrations: c.migrations.length,
    };
  }

  /**
   * `POST /v1/connections/{id}/migrate-server`: moves the server end to member `to` (or the next
   * one). Answers at once with the record just started; the migration goes on in the background.
   * The caller has checked that `relayId` is one of `uid`'s connections.
   */
  start(uid: string, relayId: string, to?: string): ServerMigrationView {
    const l = this.live.get(relayId);
    if (!l || l.uid !== uid) {
      throw conflict('ERR_NOT_MTCP', `connection ${relayId} does not go to an M-TCP pool, so its server cannot be migrated (configure the destination with --mtcp-pool or --mtcp-pool-file)`);
    }
    const c = l.conn;
    if (c.connState === 'migrating') throw conflict('ERR_MIGRATION_IN_PROGRESS', `the server side of connection ${relayId} is already migrating`);
    if (c.connState !== 'established') throw conflict('ERR_CONNECTION_CLOSED', `the server side of connection ${relayId} is ${c.connState}`);
    if (to !== undefined && !c.members.some((m) => m.id === to)) {
      throw new ControlRequestError('ERR_MEMBER_NOT_FOUND', 404, `no member ${to} in the pool (members: ${c.members.map((m) => m.id).join(', ')})`);
    }
    if (to !== undefined && to === c.member) throw conflict('ERR_SAME_MEMBER', `connection ${relayId} is already served by ${to}`);
    let started: ServerMigrationRecord | undefined;
    const grab = (r: ServerMigrationRecord): void => {
      started = r;
    };
    c.once('migration', grab); // emitted synchronously inside migrate()
    // A failure here destroys the M-TCP connection, and the relay closes both sides: the record says why.
    c.migrate(to, 'demand').catch(() => {});
    c.off('migration', grab);
    if (!started) throw conflict('ERR_MIGRATION_STATE', `the server side of connection ${relayId} could not start a migration`);
    return this.view(this.byRecord(started)!);
  }

  get(uid: string, id: string): ServerMigrationView {
    const e = this.entries.get(id);
    if (!e || e.uid !== uid) throw notFound('migration', id);
    return this.view(e);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** The user's server migrations, newest first. */
  recentOf(uid: string, limit = 50): ServerMigrationView[] {
    return [...this.entries.values()].filter((e) => e.uid === uid).reverse().slice(0, limit).map((e) => this.view(e));
  }

  private byRecord(record: ServerMigrationRecord): Entry | undefined {
    return this.ofRecord.get(record);
  }

  private remember(relay: TrackedRelay, record: ServerMigrationRecord): Entry {
    let id: string;
    do id = `s${(this.options.idPrefix + randomBytes(5).toString('hex')).slice(0, 10)}`;
    while (this.entries.has(id));
    const entry: Entry = { id, uid: relay.uid, relay: relay.id, record };
    this.entries.set(id, entry);
    this.ofRecord.set(record, entry);
    if (this.entries.size > this.options.historySize) {
      for (const [old, e] of this.entries) {
        if (this.entries.size <= this.options.historySize) break;
        if (e.record.state === 'done' || e.record.state === 'failed') this.entries.delete(old);
      }
    }
    return entry;
  }

  private bump(record: ServerMigrationRecord, event: ServerMigrationEvent): void {
    this.counts[record.trigger][event]++;
    for (const o of this.observers) o(event, record);
  }

  private view(e: Entry): ServerMigrationView {
    const { id: recordId, connection: cid, ...rest } = e.record;
    // A copy: the record keeps changing while the migration runs.
    return JSON.parse(JSON.stringify({ id: e.id, kind: 'server', connection: e.relay, cid, recordId, ...rest })) as ServerMigrationView;
  }
}
