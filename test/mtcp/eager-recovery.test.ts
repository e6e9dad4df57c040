import { afterEach, describe, expect, it } from 'vitest';
import { MtcpClientConnection } from '../../src/mtcp/client/client-connection.js';
import { retryDelay, runMigration } from '../../src/mtcp/client/migration-runner.js';
import type { ServerMigrationRecord } from '../../src/mtcp/client/migration-record.js';
import { expectedStreamHash } from '../../src/mtcp/examples/stream-protocol.js';
import { MtcpServer } from '../../src/mtcp/server/mtcp-server.js';
import { streamHandler } from '../../src/mtcp/examples/stream-server.js';
import { makePool, readHashed, request, startPool, stopAll } from './support/pool.js';

let servers: MtcpServer[] = [];
afterEach(async () => {
  await stopAll(servers);
  servers = [];
});

describe('eager transfer after crashes (push store)', () => {
  it('a member that restarted empty resumes a connection from the replica another member holds', async () => {
    const pool = await makePool(3, 'push');
    const started = await startPool(pool, { rate: 1_000_000 });
    servers = [...started.values()];
    const conn = await new MtcpClientConnection({ address: pool.members[0]!.address }).connect();
    const errors: Error[] = [];
    conn.on('error', (e) => errors.push(e));
    request(conn, 'restarted', 200_000);
    const reading = readHashed(conn, 200_000, 10_000);
    await new Promise((r) => setTimeout(r, 40));
    // s2 restarts: same id and port, nothing in its store.
    await started.get('s2')!.close();
    const fresh = new MtcpServer({ pool, id: 's2', handler: streamHandler({ rate: 1_000_000 }) });
    await fresh.listen();
    servers.push(fresh);
    // The serving member dies; s2 is the first the client asks.
    const migrated = new Promise<ServerMigrationRecord>((r) => conn.once('migrated', r));
    await started.get('s1')!.close();
    const rec = await migrated;
    expect(rec.attempts[0]).toMatchObject({ member: 's2', ok: true });
    expect(rec).toMatchObject({ to: 's2', transfer: { source: 'store' } });
    expect((await reading).hash).toBe(expectedStreamHash('restarted', 200_000));
    expect(errors).toEqual([]);
    conn.destroy();
  });

  it('a snapshot no other member acknowledged is not committed, and is pushed again once one is back', async () => {
    const pool = await makePool(2, 'push');
    const started = await startPool(pool);
    servers = [...started.values()];
    await started.get('s2')!.close();
    const conn = await new MtcpClientConnection({ address: pool.members[0]!.address }).connect();
    request(conn, 'alone', 10_000);
    expect((await readHashed(conn, 10_000, 5000)).hash).toBe(expectedStreamHash('alone', 10_000));
    await new Promise((r) => setTimeout(r, 150));
    // No replica anywhere: the client still holds its request line (no COMMIT came).
    const held = (conn as unknown as { input: { start: number; end: number } }).input;
    expect(held.start).toBe(0);
    expect(held.end).toBeGreaterThan(0);
    // s2 comes back empty; the retried save reaches it, and only then the COMMIT comes.
    const back = new MtcpServer({ pool, id: 's2', handler: streamHandler() });
    await back.listen();
    servers.push(back);
    const deadline = Date.now() + 3000;
    while (held.start === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(held.start).toBe(held.end);
    expect(await back.store.load(conn.cid)).toMatchObject({ cid: conn.cid, owner: 's1' });
    conn.destroy();
  });
});

describe('client back-off between rounds of candidates', () => {
  it('tries each member once without pause, then pauses, doubling per round up to the cap', () => {
    const o = { retryDelayMs: 100, maxRetryDelayMs: 250 };
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => retryDelay(i, 3, o))).toEqual([0, 0, 0, 100, 0, 0, 200, 0, 0, 250]);
    expect(retryDelay(3, 3, { retryDelayMs: 0, maxRetryDelayMs: 0 })).toBe(0);
  });

  it('runMigration waits between rounds and stops when the connection is gone', async () => {
    const members = [
      { id: 'a', address: 'a:1' },
      { id: 'b', address: 'b:1' },
    ];
    const record = { attempts: [], phases: { requested: Date.now(), detached: Date.now() }, timings: {} } as unknown as ServerMigrationRecord;
    const times: number[] = [];
    let closed = false;
    const t0 = Date.now();
    await expect(
      runMigration(
        record,
        [...members, ...members, ...members],
        async () => {
          times.push(Date.now() - t0);
          if (times.length === 4) closed = true;
          throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
        },
        { retryDelayMs: 60, maxRetryDelayMs: 1000, aborted: () => closed },
      ),
    ).rejects.toMatchObject({ code: 'ERR_MTCP_MIGRATION_FAILED' });
    expect(times).toHaveLength(4); // the third round never starts: the connection was closed
    expect(times[1]! - times[0]!).toBeLessThan(50);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(55);
    expect(record.state).toBe('failed');
  });
});
