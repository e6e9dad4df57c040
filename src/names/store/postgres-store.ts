/**
 * The store for several name-server processes over one PostgreSQL database (`pg`). Multi-row
 * changes run in one transaction; appends to a group's log lock the user's row first, so two
 * processes never hand out the same sequence number. Migrations run under an advisory lock, so
 * processes starting together apply them once.
 */
import pg from 'pg';
import type { DeviceRecord, IntroductionRecord, PairingRecord, UserRecord } from '../model.js';
import type { LogEntry, StoredLogEntry } from '../sync/log-entry.js';
import type { HeartbeatUpdate, NameStore, NewDevice, PreviousPresence } from './name-store.js';
import { MIGRATIONS } from './migrations/schema.js';
import { deviceFromRow, introductionFromRow, logEntryFromRow, userFromRow } from './rows.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Schema to use instead of `public` (tests isolate themselves this way); created if missing. */
  schema?: string;
  /** Pool size. @default 10 */
  poolSize?: number;
}

const MIGRATION_LOCK = 0x7473_6d70; // "tsmp"

export function validSchemaName(schema: string): boolean {
  return /^[a-z_][a-z0-9_]{0,62}$/.test(schema);
}

export class PostgresStore implements NameStore {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;
  readonly schema: string;

  private constructor(pool: pg.Pool, schema: string) {
    this.pool = pool;
    this.schema = schema;
  }

  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = opts.schema ?? 'public';
    if (!validSchemaName(schema)) throw new Error(`invalid schema name "${schema}"`);
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      options: `-c search_path=${schema}`,
    });
    // An idle client that loses its server must not crash the process (pg docs, "Pool" events).
    pool.on('error', () => {});
    const store = new PostgresStore(pool, schema);
    try {
      await store.migrate();
    } catch (err) {
      await pool.end();
      throw err;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    await this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      const done = new Set((await c.query('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)));
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        for (const sql of m.sql) await c.query(sql);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      }
    });
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  private async one(sql: string, params: unknown[]): Promise<Record<string, unknown> | null> {
    const r = await this.pool.query(sql, params);
    return r.rows[0] ?? null;
  }

  async createUser(u: UserRecord): Promise<boolean> {
    const r = await this.pool.query('INSERT INTO users (uid, password_hash, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [u.uid, u.passwordHash, u.createdAt]);
    return r.rowCount === 1;
  }

  async getUser(uid: string): Promise<UserRecord | null> {
    const r = await this.one('SELECT * FROM users WHERE uid = $1', [uid]);
    return r ? userFromRow(r) : null;
  }

  async createDevice(d: NewDevice): Promise<boolean> {
    const r = await this.pool.query(
      'INSERT INTO devices (did, uid, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
      [d.did, d.uid, d.name, d.tokenHash, d.createdAt],
    );
    return r.rowCount === 1;
  }

  async getDevice(did: string): Promise<DeviceRecord | null> {
    const r = await this.one('SELECT * FROM devices WHERE did = $1', [did]);
    return r ? deviceFromRow(r) : null;
  }

  async getDevices(dids: string[]): Promise<DeviceRecord[]> {
    const out: DeviceRecord[] = [];
    for (let i = 0; i < dids.length; i += 1000) {
      const r = await this.pool.query('SELECT * FROM devices WHERE did = ANY($1::text[])', [dids.slice(i, i + 1000)]);
      out.push(...r.rows.map(deviceFromRow));
    }
    return out;
  }

  async listDevices(uid: string): Promise<DeviceRecord[]> {
    return (await this.pool.query('SELECT * FROM devices WHERE uid = $1 ORDER BY name', [uid])).rows.map(deviceFromRow);
  }

  async revokeDevice(did: string, now: number): Promise<boolean> {
    const r = await this.pool.query('UPDATE devices SET revoked_at = $1 WHERE did = $2 AND revoked_at IS NULL', [now, did]);
    return r.rowCount === 1;
  }

  async heartbeat(u: HeartbeatUpdate): Promise<PreviousPresence | null> {
    // One statement: the old values come from the row as it was before this UPDATE.
    const r = await this.one(
      `UPDATE devices d SET coa = $1, control = $2, last_seen = $3
         FROM (SELECT did, coa, last_seen FROM devices WHERE did = $4 AND revoked_at IS NULL FOR UPDATE) old
        WHERE d.did = old.did
        RETURNING old.coa AS coa, old.last_seen AS last_seen`,
      [u.coa, u.control, u.now, u.did],
    );
    if (!r) return null;
    return { coa: (r.coa as string | null) ?? null, lastSeen: r.last_seen === null ? null : Number(r.last_seen) };
  }

  async createPairing(p: PairingRecord): Promise<void> {
    await this.pool.query('INSERT INTO pairings (code_hash, uid, created_by, expires_at) VALUES ($1, $2, $3, $4)', [p.codeHash, p.uid, p.createdBy, p.expiresAt]);
  }

  async claimPairing(codeHash: string, d: NewDevice): Promise<{ result: 'ok'; createdBy: string } | { result: 'invalid' | 'taken' }> {
    return this.tx(async (c) => {
      await c.query('DELETE FROM pairings WHERE expires_at <= $1', [d.createdAt]);
      const taken = await c.query('SELECT 1 FROM devices WHERE did = $1', [d.did]);
      if (taken.rowCount) return { result: 'taken' as const };
      const r = await c.query('DELETE FROM pairings WHERE code_hash = $1 AND uid = $2 AND expires_at > $3 RETURNING created_by', [codeHash, d.uid, d.createdAt]);
      if (!r.rowCount) return { result: 'invalid' as const };
      const ins = await c.query(
        'INSERT INTO devices (did, uid, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
        [d.did, d.uid, d.name, d.tokenHash, d.createdAt],
      );
      // A concurrent claim of the same name won the race: give the code back by rolling back.
      if (ins.rowCount !== 1) throw new DeviceTakenRace();
      return { result: 'ok' as const, createdBy: String(r.rows[0].created_by) };
    }).catch((err: unknown) => {
      if (err instanceof DeviceTakenRace) return { result: 'taken' as const };
      throw err;
    });
  }

  async createIntroduction(i: IntroductionRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO introductions (id, from_uid, from_did, to_uid, from_name, state, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [i.id, i.fromUid, i.fromDid, i.toUid, i.fromName, i.state, i.createdAt, i.expiresAt],
    );
  }

  async getIntroduction(id: string): Promise<IntroductionRecord | null> {
    const r = await this.one('SELECT * FROM introductions WHERE id = $1', [id]);
    return r ? introductionFromRow(r) : null;
  }

  async listIntroductions(toUid: string, now: number): Promise<IntroductionRecord[]> {
    const r = await this.pool.query("SELECT * FROM introductions WHERE to_uid = $1 AND state = 'pending' AND expires_at > $2 ORDER BY created_at", [toUid, now]);
    return r.rows.map(introductionFromRow);
  }

  async confirmIntroduction(id: string, entries: { uid: string; entry: LogEntry }[]): Promise<boolean> {
    return this.tx(async (c) => {
      const r = await c.query("UPDATE introductions SET state = 'confirmed' WHERE id = $1 AND state = 'pending' RETURNING from_uid, to_uid", [id]);
      if (r.rowCount !== 1) return false;
      const { from_uid: a, to_uid: b } = r.rows[0] as { from_uid: string; to_uid: string };
      await c.query('INSERT INTO friendships (uid, friend_uid) VALUES ($1, $2), ($2, $1) ON CONFLICT DO NOTHING', [a, b]);
      for (const { uid, entry } of entries) await this.appendIn(c, uid, [entry]);
      return true;
    });
  }

  async areFriends(uid: string, other: string): Promise<boolean> {
    return (await this.one('SELECT 1 AS x FROM friendships WHERE uid = $1 AND friend_uid = $2', [uid, other])) !== null;
  }

  private async appendIn(c: pg.PoolClient, uid: string, entries: LogEntry[]): Promise<number> {
    // Serialises appends to one group across processes (the user row is the group's lock).
    await c.query('SELECT 1 FROM users WHERE uid = $1 FOR UPDATE', [uid]);
    let seq = Number((await c.query('SELECT COALESCE(MAX(seq), 0) AS seq FROM namespace_log WHERE uid = $1', [uid])).rows[0].seq);
    let added = 0;
    for (const e of entries) {
      const r = await c.query(
        'INSERT INTO namespace_log (uid, seq, id, ts, origin, op, key, value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (uid, id) DO NOTHING',
        [uid, seq + 1, e.id, e.ts, e.origin, e.op, e.key, e.value],
      );
      if (r.rowCount === 1) {
        seq++;
        added++;
      }
    }
    return added;
  }

  async appendLog(uid: string, entries: LogEntry[]): Promise<number> {
    return this.tx((c) => this.appendIn(c, uid, entries));
  }

  async readLog(uid: string, since: number, limit: number): Promise<StoredLogEntry[]> {
    const r = await this.pool.query('SELECT * FROM namespace_log WHERE uid = $1 AND seq > $2 ORDER BY seq LIMIT $3', [uid, since, limit]);
    return r.rows.map(logEntryFromRow);
  }

  async groupVersion(uid: string): Promise<{ seq: number; modified: number }> {
    const r = await this.one('SELECT COALESCE((SELECT MAX(seq) FROM namespace_log WHERE uid = $1), 0) AS seq, COALESCE((SELECT MAX(ts) FROM namespace_log WHERE uid = $1), 0) AS modified', [uid]);
    return { seq: Number(r?.seq ?? 0), modified: Number(r?.modified ?? 0) };
  }

  async importDevices(devices: NewDevice[]): Promise<void> {
    for (let i = 0; i < devices.length; i += 2000) {
      const batch = devices.slice(i, i + 2000);
      await this.pool.query(
        `INSERT INTO devices (did, uid, name, token_hash, created_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) ON CONFLICT DO NOTHING`,
        [batch.map((d) => d.did), batch.map((d) => d.uid), batch.map((d) => d.name), batch.map((d) => d.tokenHash), batch.map((d) => d.createdAt)],
      );
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

class DeviceTakenRace extends Error {}
