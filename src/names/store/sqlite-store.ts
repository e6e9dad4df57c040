/**
 * The embedded store: better-sqlite3 in WAL mode. A committed transaction is in the WAL file
 * before the call returns, so a SIGKILL loses nothing acknowledged; `synchronous=NORMAL` only
 * risks the last transactions on a power cut, which is SQLite's documented WAL trade-off
 * (https://sqlite.org/pragma.html#pragma_synchronous). Set `durable: true` for FULL.
 *
 * Heartbeats are group-committed: those that arrive in one turn of the event loop are written in
 * one transaction, flushed before the turn's I/O callbacks run again (setImmediate), and each is
 * acknowledged only after that commit, so "acknowledged = in the WAL" still holds.
 *
 * One process owns the file, so devices, each user's device list and each group's version are
 * kept in memory and updated by every write (store/device-cache.ts). A heartbeat that changes
 * nothing but the time (same CoA and control address, row written less than
 * `presenceWriteMs` ago) is answered from memory without a write; a SIGKILL loses at most those
 * `last_seen` refreshes, never a registration or a CoA change (docs/names.md, "Presence in
 * memory"). The devices are read into memory when the store opens (`preloadDevices`), so no
 * resolution waits for SQL, and a heartbeat's previous presence comes from memory (no SELECT).
 * WAL checkpoints run in a worker thread (store/wal-checkpointer.ts), not inside a commit on
 * the event loop.
 */
import Database from 'better-sqlite3';
import type { DeviceRecord, IntroductionRecord, PairingRecord, UserRecord } from '../model.js';
import type { LogEntry, StoredLogEntry } from '../sync/log-entry.js';
import type { HeartbeatUpdate, NameStore, NewDevice, PreviousPresence } from './name-store.js';
import { DeviceCache, type CachedDevice } from './device-cache.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { MIGRATIONS } from './migrations/schema.js';
import { deviceFromRow, introductionFromRow, logEntryFromRow, userFromRow } from './rows.js';

export interface SqliteStoreOptions {
  /** File path, or `:memory:`. */
  path: string;
  /** `synchronous=FULL` instead of NORMAL. @default false */
  durable?: boolean;
  /**
   * SQLite's page cache, and as much again memory-mapped: 100,000 devices take about 20 MiB, and
   * the default 2 MiB cache turns every random lookup into a read() call. @default 64
   */
  cacheMiB?: number;
  /** Most heartbeats in one group commit. @default 512 */
  maxHeartbeatBatch?: number;
  /** Devices kept in memory (about 300 bytes each); 0 turns the cache and presence in memory off. @default 200000 */
  cachedDevices?: number;
  /**
   * Read up to `cachedDevices` unrevoked devices into memory when the store opens (the most
   * recently seen ones), so that a resolution never waits for SQL, the first after a restart
   * included (docs/names.md, "Presence in memory"). @default true
   */
  preloadDevices?: boolean;
  /**
   * A heartbeat that changes only `last_seen` is written when the row's `last_seen` is at least
   * this old, else kept in memory. 0 writes every heartbeat. The name server passes interval ×
   * missed heartbeats (the time after which a device is offline). @default 0
   */
  presenceWriteMs?: number;
  /**
   * Checkpoint the WAL from a worker thread instead of inside the commit that passes 1000 pages
   * (store/wal-checkpointer.ts). Ignored for `:memory:`. @default true
   */
  checkpointInThread?: boolean;
}

interface PendingHeartbeat {
  update: HeartbeatUpdate;
  resolve: (p: PreviousPresence | null) => void;
  reject: (err: unknown) => void;
}

type Row = Record<string, unknown>;

export class SqliteStore implements NameStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<SqliteStore['prepare']>;
  /** Built once: better-sqlite3 compiles a wrapper per transaction() call. */
  private readonly heartbeatTx: (batch: HeartbeatUpdate[]) => (PreviousPresence | null)[];
  private pending: PendingHeartbeat[] = [];
  /** DIDs with a heartbeat waiting for the group commit: their next one waits too, in order. */
  private readonly pendingDids = new Set<string>();
  private readonly maxBatch: number;
  private readonly cache: DeviceCache;
  private readonly presenceWriteMs: number;
  private readonly checkpointer: WalCheckpointer | null;

  constructor(opts: SqliteStoreOptions) {
    this.db = new Database(opts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.durable ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    const cacheMiB = opts.cacheMiB ?? 64;
    this.db.pragma(`cache_size = ${-cacheMiB * 1024}`);
    this.db.pragma(`mmap_size = ${cacheMiB * 1024 * 1024}`);
    this.maxBatch = opts.maxHeartbeatBatch ?? 512;
    this.presenceWriteMs = opts.presenceWriteMs ?? 0;
    this.migrate();
    const inMemory = opts.path === ':memory:' || opts.path.startsWith('file::memory:');
    this.checkpointer = (opts.checkpointInThread ?? true) && !inMemory ? new WalCheckpointer(this.db, opts.path) : null;
    this.stmt = this.prepare();
    this.cache = new DeviceCache(opts.cachedDevices ?? 200_000, (c) => this.writeLastSeen(c));
    if (opts.preloadDevices ?? true) this.preload(opts.cachedDevices ?? 200_000);
    this.heartbeatTx = this.db.transaction((batch: HeartbeatUpdate[]) => {
      // Heartbeats of one device later in the same batch see the earlier ones (memory is updated only after the commit).
      const inBatch = new Map<string, PreviousPresence>();
      return batch.map((u) => this.applyHeartbeat(u, inBatch));
    });
  }

  /**
   * The most recently seen devices, least recent first so that they are also the first to leave
   * the cache. 100,000 devices take about 1 s and 34 MiB of heap.
   */
  private preload(max: number): void {
    if (max <= 0) return;
    const rows = this.db
      .prepare('SELECT * FROM (SELECT * FROM devices WHERE revoked_at IS NULL ORDER BY last_seen DESC NULLS LAST LIMIT ?) ORDER BY last_seen ASC NULLS FIRST')
      .iterate(max) as IterableIterator<Row>;
    for (const r of rows) this.cache.loaded(deviceFromRow(r));
  }

  /** Writes one heartbeat; returns the device's presence before it (null: unknown or revoked). */
  private applyHeartbeat(u: HeartbeatUpdate, inBatch: Map<string, PreviousPresence>): PreviousPresence | null {
    const prev = inBatch.get(u.did) ?? this.previousPresence(u.did);
    if (prev === null) return null;
    if (this.stmt.heartbeat.run(u.coa, u.control, u.now, u.did).changes !== 1) return null;
    inBatch.set(u.did, { coa: u.coa, lastSeen: u.now });
    return prev;
  }

  /**
   * A device's presence before this heartbeat, from memory when the device is cached (memory is
   * updated by every write of this process, and may hold a later `last_seen` than the row), which
   * saves a SELECT per heartbeat; otherwise from the row. Null when unknown or revoked.
   */
  private previousPresence(did: string): PreviousPresence | null {
    const c = this.cache.device(did);
    if (c) {
      if (c.rec.revokedAt !== null) return null;
      const stored = c.storedLastSeen;
      const mem = c.rec.lastSeen;
      return { coa: c.rec.coa, lastSeen: mem !== null && (stored === null || mem > stored) ? mem : stored };
    }
    const row = this.stmt.presence.get(did) as Row | undefined;
    if (!row) return null;
    return { coa: (row.coa as string | null) ?? null, lastSeen: row.last_seen === null ? null : Number(row.last_seen) };
  }

  private flushHeartbeats(): void {
    this.pendingDids.clear();
    while (this.pending.length) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        const prev = this.heartbeatTx(batch.map((b) => b.update));
        this.committed(batch, prev);
        batch.forEach((b, i) => b.resolve(prev[i]!));
      } catch {
        // One failing heartbeat must not fail the others: retry each in a transaction of its own.
        for (const b of batch) {
          try {
            const prev = this.heartbeatTx([b.update]);
            this.committed([b], prev);
            b.resolve(prev[0]!);
          } catch (err) {
            b.reject(err);
          }
        }
      }
    }
  }

  private writeLastSeen(c: CachedDevice): void {
    this.stmt.touch.run({ t: c.rec.lastSeen, did: c.rec.did });
    c.storedLastSeen = c.rec.lastSeen;
  }

  private committed(batch: PendingHeartbeat[], prev: (PreviousPresence | null)[]): void {
    batch.forEach((b, i) => {
      if (prev[i]) this.cache.written(b.update.did, b.update.coa, b.update.control, b.update.now);
    });
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const done = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map((r) => Number(r.version)));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      this.db.transaction(() => {
        for (const sql of m.sql) this.db.exec(sql);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }).immediate();
    }
  }

  private prepare() {
    const p = (sql: string) => this.db.prepare(sql);
    return {
      insertUser: p('INSERT INTO users (uid, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      getUser: p('SELECT * FROM users WHERE uid = ?'),
      insertDevice: p('INSERT INTO devices (did, uid, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      getDevice: p('SELECT * FROM devices WHERE did = ?'),
      listDevices: p('SELECT * FROM devices WHERE uid = ? ORDER BY name'),
      revoke: p('UPDATE devices SET revoked_at = ? WHERE did = ? AND revoked_at IS NULL'),
      presence: p('SELECT coa, last_seen FROM devices WHERE did = ? AND revoked_at IS NULL'),
      heartbeat: p('UPDATE devices SET coa = ?, control = ?, last_seen = ? WHERE did = ? AND revoked_at IS NULL'),
      touch: p('UPDATE devices SET last_seen = $t WHERE did = $did AND (last_seen IS NULL OR last_seen < $t)'),
      insertPairing: p('INSERT INTO pairings (code_hash, uid, created_by, expires_at) VALUES (?, ?, ?, ?)'),
      takePairing: p('DELETE FROM pairings WHERE code_hash = ? AND uid = ? AND expires_at > ? RETURNING created_by'),
      expirePairings: p('DELETE FROM pairings WHERE expires_at <= ?'),
      insertIntro: p('INSERT INTO introductions (id, from_uid, from_did, to_uid, from_name, state, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      getIntro: p('SELECT * FROM introductions WHERE id = ?'),
      listIntros: p("SELECT * FROM introductions WHERE to_uid = ? AND state = 'pending' AND expires_at > ? ORDER BY created_at"),
      confirmIntro: p("UPDATE introductions SET state = 'confirmed' WHERE id = ? AND state = 'pending'"),
      insertFriend: p('INSERT INTO friendships (uid, friend_uid) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      isFriend: p('SELECT 1 FROM friendships WHERE uid = ? AND friend_uid = ?'),
      maxSeq: p('SELECT COALESCE((SELECT MAX(seq) FROM namespace_log WHERE uid = $uid), 0) AS seq, COALESCE((SELECT MAX(ts) FROM namespace_log WHERE uid = $uid), 0) AS modified'),
      insertLog: p('INSERT INTO namespace_log (uid, seq, id, ts, origin, op, key, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      readLog: p('SELECT * FROM namespace_log WHERE uid = ? AND seq > ? ORDER BY seq LIMIT ?'),
    };
  }

  async createUser(u: UserRecord): Promise<boolean> {
    return this.stmt.insertUser.run(u.uid, u.passwordHash, u.createdAt).changes === 1;
  }

  async getUser(uid: string): Promise<UserRecord | null> {
    const r = this.stmt.getUser.get(uid) as Row | undefined;
    return r ? userFromRow(r) : null;
  }

  async createDevice(d: NewDevice): Promise<boolean> {
    this.cache.forgetList(d.uid);
    return this.stmt.insertDevice.run(d.did, d.uid, d.name, d.tokenHash, d.createdAt).changes === 1;
  }

  /** Not cached when absent, so a device created a moment later is found at once. */
  private deviceSync(did: string): DeviceRecord | null {
    const c = this.cache.device(did);
    if (c) return c.rec;
    const r = this.stmt.getDevice.get(did) as Row | undefined;
    return r ? this.cache.loaded(deviceFromRow(r)) : null;
  }

  async getDevice(did: string): Promise<DeviceRecord | null> {
    return this.deviceSync(did);
  }

  async getDevices(dids: string[]): Promise<DeviceRecord[]> {
    const out: DeviceRecord[] = [];
    for (const did of dids) {
      const d = this.deviceSync(did);
      if (d) out.push(d);
    }
    return out;
  }

  async listDevices(uid: string): Promise<DeviceRecord[]> {
    const dids = this.cache.list(uid);
    if (dids) {
      const out = dids.map((d) => this.deviceSync(d));
      if (out.every((d) => d !== null)) return out as DeviceRecord[];
    }
    const rows = (this.stmt.listDevices.all(uid) as Row[]).map((r) => this.cache.loaded(deviceFromRow(r)));
    this.cache.setList(uid, rows.map((d) => d.did));
    return rows;
  }

  async revokeDevice(did: string, now: number): Promise<boolean> {
    const done = this.stmt.revoke.run(now, did).changes === 1;
    if (done) this.cache.revoked(did, now);
    return done;
  }

  heartbeat(u: HeartbeatUpdate): Promise<PreviousPresence | null> {
    if (!this.db.open) return Promise.reject(new TypeError('The database connection is not open'));
    // Nothing but the time changed and the row is recent: memory only (class comment).
    const c = this.cache.device(u.did);
    if (
      c &&
      c.rec.revokedAt === null &&
      c.rec.coa === u.coa &&
      c.rec.control === u.control &&
      c.storedLastSeen !== null &&
      u.now - c.storedLastSeen < this.presenceWriteMs &&
      !this.pendingDids.has(u.did)
    ) {
      const prev = { coa: c.rec.coa, lastSeen: c.rec.lastSeen };
      this.cache.touched(c, Math.max(u.now, c.rec.lastSeen ?? 0));
      return Promise.resolve(prev);
    }
    return new Promise((resolve, reject) => {
      this.pendingDids.add(u.did);
      if (this.pending.push({ update: u, resolve, reject }) === 1) setImmediate(() => this.flushHeartbeats());
    });
  }

  async createPairing(p: PairingRecord): Promise<void> {
    this.stmt.insertPairing.run(p.codeHash, p.uid, p.createdBy, p.expiresAt);
  }

  async claimPairing(codeHash: string, d: NewDevice): Promise<{ result: 'ok'; createdBy: string } | { result: 'invalid' | 'taken' }> {
    this.cache.forgetList(d.uid);
    const tx = this.db.transaction(() => {
      this.stmt.expirePairings.run(d.createdAt);
      if (this.stmt.getDevice.get(d.did)) return { result: 'taken' as const };
      const r = this.stmt.takePairing.get(codeHash, d.uid, d.createdAt) as Row | undefined;
      if (!r) return { result: 'invalid' as const };
      this.stmt.insertDevice.run(d.did, d.uid, d.name, d.tokenHash, d.createdAt);
      return { result: 'ok' as const, createdBy: String(r.created_by) };
    });
    return tx.immediate();
  }

  async createIntroduction(i: IntroductionRecord): Promise<void> {
    this.stmt.insertIntro.run(i.id, i.fromUid, i.fromDid, i.toUid, i.fromName, i.state, i.createdAt, i.expiresAt);
  }

  async getIntroduction(id: string): Promise<IntroductionRecord | null> {
    const r = this.stmt.getIntro.get(id) as Row | undefined;
    return r ? introductionFromRow(r) : null;
  }

  async listIntroductions(toUid: string, now: number): Promise<IntroductionRecord[]> {
    return (this.stmt.listIntros.all(toUid, now) as Row[]).map(introductionFromRow);
  }

  async confirmIntroduction(id: string, entries: { uid: string; entry: LogEntry }[]): Promise<boolean> {
    const tx = this.db.transaction(() => {
      if (this.stmt.confirmIntro.run(id).changes !== 1) return false;
      const intro = introductionFromRow(this.stmt.getIntro.get(id) as Row);
      this.stmt.insertFriend.run(intro.fromUid, intro.toUid);
      this.stmt.insertFriend.run(intro.toUid, intro.fromUid);
      for (const { uid, entry } of entries) this.appendSync(uid, [entry]);
      return true;
    });
    for (const { uid } of entries) this.cache.forgetVersion(uid);
    return tx.immediate();
  }

  async areFriends(uid: string, other: string): Promise<boolean> {
    return this.stmt.isFriend.get(uid, other) !== undefined;
  }

  private appendSync(uid: string, entries: LogEntry[]): number {
    let seq = Number((this.stmt.maxSeq.get({ uid }) as Row).seq);
    let added = 0;
    for (const e of entries) {
      const r = this.stmt.insertLog.run(uid, seq + 1, e.id, e.ts, e.origin, e.op, e.key, e.value);
      if (r.changes === 1) {
        seq++;
        added++;
      }
    }
    return added;
  }

  async appendLog(uid: string, entries: LogEntry[]): Promise<number> {
    this.cache.forgetVersion(uid);
    return this.db.transaction(() => this.appendSync(uid, entries)).immediate();
  }

  async readLog(uid: string, since: number, limit: number): Promise<StoredLogEntry[]> {
    return (this.stmt.readLog.all(uid, since, limit) as Row[]).map(logEntryFromRow);
  }

  async groupVersion(uid: string): Promise<{ seq: number; modified: number }> {
    const hit = this.cache.version(uid);
    if (hit) return hit;
    const r = this.stmt.maxSeq.get({ uid }) as Row;
    const v = { seq: Number(r.seq), modified: Number(r.modified) };
    this.cache.setVersion(uid, v);
    return v;
  }

  async importDevices(devices: NewDevice[]): Promise<void> {
    const tx = this.db.transaction((batch: NewDevice[]) => {
      for (const d of batch) this.stmt.insertDevice.run(d.did, d.uid, d.name, d.tokenHash, d.createdAt);
    });
    this.cache.clearLists();
    for (let i = 0; i < devices.length; i += 5000) tx.immediate(devices.slice(i, i + 5000));
  }

  /** Heartbeats waiting for their commit, and the `last_seen` values kept only in memory. */
  async close(): Promise<void> {
    if (!this.db.open) return;
    this.flushHeartbeats();
    this.db.transaction(() => this.cache.dirty().forEach((c) => this.writeLastSeen(c)))();
    await this.checkpointer?.stop();
    if (this.db.open) this.db.close();
  }
}
