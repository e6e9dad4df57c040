import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/names/store/sqlite-store.js';
import { tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/**
 * The users present in the main database file alone, without its WAL: only what a checkpoint
 * has copied there (fewer than 1000 frames are written, so no automatic checkpoint runs).
 */
function usersInMainFile(path: string, name: string): number {
  const copy = join(tmp.dir, `${name}-main-only.db`);
  copyFileSync(path, copy);
  const db = new Database(copy, { readonly: true });
  try {
    // Before any checkpoint even the schema is only in the WAL.
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'users'").get()) return 0;
    return Number((db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n);
  } finally {
    db.close();
  }
}

async function writeUsers(s: SqliteStore, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await s.createUser({ uid: `u${i}@wal.test`, passwordHash: 'h', createdAt: i });
}

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe('WAL checkpoints in a worker thread', () => {
  it('copies committed pages into the database file without a checkpoint on the main connection', async () => {
    const path = join(tmp.dir, 'thread.db');
    const s = new SqliteStore({ path });
    await writeUsers(s, 40);
    expect(await eventually(() => usersInMainFile(path, 'thread') === 40)).toBe(true);
    await s.close();
    // The worker closed its connection before the store's: the last close removed the WAL.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('leaves them in the WAL when it is off (the control for the test above)', async () => {
    const path = join(tmp.dir, 'nothread.db');
    const s = new SqliteStore({ path, checkpointInThread: false });
    await writeUsers(s, 40);
    await new Promise((r) => setTimeout(r, 400));
    expect(usersInMainFile(path, 'nothread')).toBe(0);
    await s.close();
    expect(usersInMainFile(path, 'nothread-closed')).toBe(40);
  });
});
