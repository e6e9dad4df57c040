import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SqliteStore } from '../../src/names/store/sqlite-store.js';
import { storeContract } from './store-contract.js';
import { tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;

storeContract('SQLite', async () => new SqliteStore({ path: join(tmp.dir, `store-${n++}.db`) }));

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
