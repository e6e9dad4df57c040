/** `--db` → a store: a `postgres://` or `postgresql://` URL opens PostgreSQL, anything else is a SQLite file. */
import type { NameStore } from './name-store.js';
import { PostgresStore } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';

export interface OpenStoreOptions {
  /** PostgreSQL schema. */
  schema?: string;
  /** SQLite: see SqliteStoreOptions.presenceWriteMs. PostgreSQL writes every heartbeat (other processes read it). */
  presenceWriteMs?: number;
  /** SQLite: devices kept in memory. @default 200000 */
  cachedDevices?: number;
}

export async function openStore(db: string, opts: OpenStoreOptions = {}): Promise<NameStore> {
  if (/^postgres(ql)?:\/\//.test(db)) return PostgresStore.open({ url: db, schema: opts.schema });
  return new SqliteStore({ path: db, presenceWriteMs: opts.presenceWriteMs, cachedDevices: opts.cachedDevices });
}
