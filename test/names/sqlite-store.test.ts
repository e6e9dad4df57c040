import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/names/store/sqlite-store.js';
import { storeContract } from './store-contract.js';
import { tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;

storeContract('SQLite', async () => new SqliteStore({ path: join(tmp.dir, `store-${n++}.db`) }));
// The same contract with presence in memory on and a cache small enough to evict all the time.
storeContract('SQLite, presence in memory, 2 cached devices', async () =>
  new SqliteStore({ path: join(tmp.dir, `store-${n++}.db`), presenceWriteMs: 60_000, cachedDevices: 2 }),
);

describe('SqliteStore files', () => {
  it('keeps data across reopening and applies migrations once', async () => {
    const path = join(tmp.dir, 'reopen.db');
    const a = new SqliteStore({ path });
    await a.createUser({ uid: 'a@b.c', passwordHash: 'h', createdAt: 1 });
    await a.close();
    const b = new SqliteStore({ path });
    expect(await b.getUser('a@b.c')).toMatchObject({ uid: 'a@b.c' });
    await b.close();
  });
});

describe('SqliteStore presence in memory', () => {
  const T = 1_700_000_000_000;
  /** What the row holds, read through a second connection (what a SIGKILL would leave). */
  const row = (path: string, did: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare('SELECT coa, last_seen FROM devices WHERE did = ?').get(did) as { coa: string | null; last_seen: number | null };
    } finally {
      db.close();
    }
  };

  it('writes CoA changes and old rows before answering, keeps only last_seen refreshes in memory, and writes them on close', async () => {
    const path = join(tmp.dir, 'presence.db');
    const s = new SqliteStore({ path, presenceWriteMs: 10_000 });
    await s.createUser({ uid: 'p@b.c', passwordHash: 'h', createdAt: T });
    await s.createDevice({ did: 'pc.p@b.c', uid: 'p@b.c', name: 'pc', tokenHash: 'x', createdAt: T });
    await s.getDevice('pc.p@b.c'); // cached from here on
    expect(await s.heartbeat({ did: 'pc.p@b.c', coa: '198.18.9.1:1', control: null, now: T })).toEqual({ coa: null, lastSeen: null });
    expect(row(path, 'pc.p@b.c')).toEqual({ coa: '198.18.9.1:1', last_seen: T });
    // Same CoA, row 5 s old: memory only, but readers of this store see it.
    expect(await s.heartbeat({ did: 'pc.p@b.c', coa: '198.18.9.1:1', control: null, now: T + 5000 })).toEqual({ coa: '198.18.9.1:1', lastSeen: T });
    expect(row(path, 'pc.p@b.c').last_seen).toBe(T);
    expect((await s.getDevice('pc.p@b.c'))?.lastSeen).toBe(T + 5000);
    expect((await s.listDevices('p@b.c'))[0]?.lastSeen).toBe(T + 5000);
    // A new CoA is written before the answer, and the previous presence is memory's.
    expect(await s.heartbeat({ did: 'pc.p@b.c', coa: '198.18.9.2:1', control: null, now: T + 6000 })).toEqual({ coa: '198.18.9.1:1', lastSeen: T + 5000 });
    expect(row(path, 'pc.p@b.c')).toEqual({ coa: '198.18.9.2:1', last_seen: T + 6000 });
    // Same CoA but the row is 10 s old: written.
    await s.heartbeat({ did: 'pc.p@b.c', coa: '198.18.9.2:1', control: null, now: T + 12_000 });
    await s.heartbeat({ did: 'pc.p@b.c', coa: '198.18.9.2:1', control: null, now: T + 16_100 });
    expect(row(path, 'pc.p@b.c').last_seen).toBe(T + 16_100);
    // A changed control address is written too.
    await s.heartbeat({ did: 'pc.p@b.c', coa: '198.18.9.2:1', control: '198.18.9.2:2', now: T + 17_000 });
    expect(row(path, 'pc.p@b.c').last_seen).toBe(T + 17_000);
    await s.heartbeat({ did: 'pc.p@b.c', coa: '198.18.9.2:1', control: '198.18.9.2:2', now: T + 18_000 });
    expect(row(path, 'pc.p@b.c').last_seen).toBe(T + 17_000);
    await s.close();
    expect(row(path, 'pc.p@b.c').last_seen).toBe(T + 18_000); // close wrote memory's value
    // A revoked device is never refreshed, from memory or otherwise.
    const again = new SqliteStore({ path, presenceWriteMs: 10_000 });
    expect(await again.revokeDevice('pc.p@b.c', T + 19_000)).toBe(true);
    expect(await again.heartbeat({ did: 'pc.p@b.c', coa: '198.18.9.2:1', control: '198.18.9.2:2', now: T + 20_000 })).toBeNull();
    await again.close();
  });

  it('reads the devices into memory when it opens (unless told not to)', async () => {
    const path = join(tmp.dir, 'preload.db');
    const a = new SqliteStore({ path });
    await a.createUser({ uid: 'l@b.c', passwordHash: 'h', createdAt: T });
    await a.createDevice({ did: 'pc.l@b.c', uid: 'l@b.c', name: 'pc', tokenHash: 'x', createdAt: T });
    await a.close();
    const opened = new SqliteStore({ path, presenceWriteMs: 10_000 });
    const lazy = new SqliteStore({ path, presenceWriteMs: 10_000, preloadDevices: false });
    // A change behind both stores' backs: only a store that already holds the device ignores it.
    const other = new Database(path);
    other.prepare("UPDATE devices SET coa = '198.18.7.7:7' WHERE did = 'pc.l@b.c'").run();
    other.close();
    expect((await opened.getDevice('pc.l@b.c'))?.coa).toBeNull();
    expect((await lazy.getDevice('pc.l@b.c'))?.coa).toBe('198.18.7.7:7');
    await opened.close();
    await lazy.close();
  });

  it('gives each heartbeat of one group commit the presence the one before it left', async () => {
    const path = join(tmp.dir, 'batch.db');
    const s = new SqliteStore({ path, presenceWriteMs: 10_000 });
    await s.createUser({ uid: 'g@b.c', passwordHash: 'h', createdAt: T });
    await s.createDevice({ did: 'pc.g@b.c', uid: 'g@b.c', name: 'pc', tokenHash: 'x', createdAt: T });
    await s.getDevice('pc.g@b.c');
    // Same turn: one transaction; the second sees the first's CoA, the third the second's.
    const [p1, p2, p3] = await Promise.all([
      s.heartbeat({ did: 'pc.g@b.c', coa: '198.18.1.1:1', control: null, now: T + 1 }),
      s.heartbeat({ did: 'pc.g@b.c', coa: '198.18.1.1:2', control: null, now: T + 2 }),
      s.heartbeat({ did: 'pc.g@b.c', coa: '198.18.1.1:3', control: null, now: T + 3 }),
    ]);
    expect([p1, p2, p3]).toEqual([
      { coa: null, lastSeen: null },
      { coa: '198.18.1.1:1', lastSeen: T + 1 },
      { coa: '198.18.1.1:2', lastSeen: T + 2 },
    ]);
    expect(row(path, 'pc.g@b.c')).toEqual({ coa: '198.18.1.1:3', last_seen: T + 3 });
    expect((await s.getDevice('pc.g@b.c'))?.coa).toBe('198.18.1.1:3');
    await s.close();
  });

  it('writes a memory-only last_seen out when its device leaves the cache', async () => {
    const path = join(tmp.dir, 'evict.db');
    const s = new SqliteStore({ path, presenceWriteMs: 60_000, cachedDevices: 1 });
    await s.createUser({ uid: 'e@b.c', passwordHash: 'h', createdAt: T });
    for (const name of ['a', 'b']) await s.createDevice({ did: `${name}.e@b.c`, uid: 'e@b.c', name, tokenHash: 'x', createdAt: T });
    await s.getDevice('a.e@b.c');
    await s.heartbeat({ did: 'a.e@b.c', coa: null, control: null, now: T });
    await s.heartbeat({ did: 'a.e@b.c', coa: null, control: null, now: T + 1000 });
    expect(row(path, 'a.e@b.c').last_seen).toBe(T);
    await s.getDevice('b.e@b.c'); // evicts a
    expect(row(path, 'a.e@b.c').last_seen).toBe(T + 1000);
    expect((await s.getDevice('a.e@b.c'))?.lastSeen).toBe(T + 1000);
    await s.close();
  });
});
