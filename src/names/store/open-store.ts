/** `--db` → a store: a `postgres://` or `postgresql://` URL opens PostgreSQL, anything else is a SQLite file. */
import type { NameStore } from './name-store.js';
import { PostgresStore } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';

export async function openStore(db: string, opts: { schema?: string } = {}): Promise<NameStore> {
  if (/^postgres(ql)?:\/\//.test(db)) return PostgresStore.open({ url: db, schema: opts.schema });
  return new SqliteStore({ path: db });
}
