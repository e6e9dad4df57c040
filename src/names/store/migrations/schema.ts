/**
 * Schema migrations, applied in order and recorded in `schema_migrations`. Written once in the
 * SQL both engines accept; an entry never changes once released, a new one is appended.
 * Times are epoch milliseconds in BIGINT.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users, devices, pairings, introductions, friendships, namespace log',
    sql: [
      `CREATE TABLE users (
         uid TEXT PRIMARY KEY,
         password_hash TEXT NOT NULL,
         created_at BIGINT NOT NULL)`,
      `CREATE TABLE devices (
         did TEXT PRIMARY KEY,
         uid TEXT NOT NULL REFERENCES users(uid),
         name TEXT NOT NULL,
         token_hash TEXT NOT NULL,
         created_at BIGINT NOT NULL,
         revoked_at BIGINT,
         coa TEXT,
         control TEXT,
         last_seen BIGINT)`,
      `CREATE INDEX devices_by_uid ON devices(uid)`,
      `CREATE TABLE pairings (
         code_hash TEXT PRIMARY KEY,
         uid TEXT NOT NULL REFERENCES users(uid),
         created_by TEXT NOT NULL,
         expires_at BIGINT NOT NULL)`,
      `CREATE TABLE introductions (
         id TEXT PRIMARY KEY,
         from_uid TEXT NOT NULL REFERENCES users(uid),
         from_did TEXT NOT NULL,
         to_uid TEXT NOT NULL REFERENCES users(uid),
         from_name TEXT NOT NULL,
         state TEXT NOT NULL,
         created_at BIGINT NOT NULL,
         expires_at BIGINT NOT NULL)`,
      `CREATE INDEX introductions_by_to ON introductions(to_uid)`,
      `CREATE TABLE friendships (
         uid TEXT NOT NULL REFERENCES users(uid),
         friend_uid TEXT NOT NULL REFERENCES users(uid),
         PRIMARY KEY (uid, friend_uid))`,
      `CREATE TABLE namespace_log (
         uid TEXT NOT NULL REFERENCES users(uid),
         seq BIGINT NOT NULL,
         id TEXT NOT NULL,
         ts BIGINT NOT NULL,
         origin TEXT NOT NULL,
         op TEXT NOT NULL,
         key TEXT NOT NULL,
         value TEXT,
         PRIMARY KEY (uid, seq),
         UNIQUE (uid, id))`,
    ],
  },
  {
    version: 2,
    name: 'index the log by time, so every heartbeat finds the group timestamp without a scan',
    sql: ['CREATE INDEX namespace_log_by_ts ON namespace_log(uid, ts)'],
  },
  {
    version: 3,
    name: "index devices by (uid, name), so every heartbeat lists the user's devices in order without a sort",
    sql: ['CREATE INDEX devices_by_uid_name ON devices(uid, name)', 'DROP INDEX devices_by_uid'],
  },
];
