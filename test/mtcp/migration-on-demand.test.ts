import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { createHash } from 'node:crypto';
import { MtcpClientConnection } from '../../src/mtcp/client/client-connection.js';
import { expectedStreamHash } from '../../src/mtcp/examples/stream-protocol.js';
import type { MtcpServer } from '../../src/mtcp/server/mtcp-server.js';
import { makePool, readHashed, request, startPool, stopAll } from './support/pool.js';

let servers: Map<string, MtcpServer> | undefined;
afterEach(async () => {
  if (servers) await stopAll(servers.values());
  servers = undefined;
});

describe('M-TCP on-demand migration (lazy transfer, memory store)', () => {
  it('streams exact bytes with no migration', async () => {
    const pool = await makePool(3);
    servers = await startPool(pool);
    const conn = await new MtcpClientConnection({ address: pool.members[0]!.address }).connect();
    request(conn, 'plain', 300_000);
    const got = await readHashed(conn, 300_000, 10_000);
    expect(got.bytes).toBe(300_000);
    expect(got.hash).toBe(expectedStreamHash('plain', 300_000));
    conn.destroy();
  });

  it('moves a live stream across all members and keeps every byte exactly once', async () => {
    const pool = await makePool(3);
    servers = await startPool(pool, { rate: 2_000_000 });
    const conn = await new MtcpClientConnection({ address: pool.members[0]!.address }).connect();
    const length = 400_000;
    request(conn, 'demand', length);
    const records: Array<Awaited<ReturnType<MtcpClientConnection['migrate']>>> = [];
    let next = 60_000;
    const reading = readHashed(conn, length, 15_000, (got) => {
      if (got >= next && records.length < 4) {
        next += 80_000;
        conn.migrate().then((r) => records.push(r), () => {});
      }
    });
    const got = await reading;
    expect(got.hash).toBe(expectedStreamHash('demand', length));
    expect(records.length).toBeGreaterThanOrEqual(3);
    for (const r of records) {
      expect(r.state).toBe('done');
      expect(r.to).not.toBe(r.from);
      expect(r.transfer?.source).toBe('peer');
      expect(r.timings.resumeMs).toBeGreaterThanOrEqual(0);
    }
    // A second request on the same connection after the migrations.
    request(conn, 'again', 50_000);
    const again = await readHashed(conn, 50_000, 10_000);
    expect(again.hash).toBe(expectedStreamHash('again', 50_000));
    // Graceful end after migrations: both ENDs, then the member lets go of the connection.
    const closed = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no close after end')), 10_000);
      conn.once('close', () => (clearTimeout(t), resolve()));
    });
    conn.end();
    await closed;
    // The member lets go once it has seen the client's END too; give that a bounded moment.
    for (let i = 0; i < 50 && [...servers!.values()].some((s) => s.sessionCount > 0); i++) await new Promise((r) => setTimeout(r, 100));
    for (const s of servers!.values()) expect(s.sessionCount).toBe(0);
  });

  it('migrates to a chosen member on demand', async () => {
    const pool = await makePool(3);
    servers = await startPool(pool, { rate: 1_000_000 });
    const conn = await new MtcpClientConnection({ address: pool.members[0]!.address }).connect();
    request(conn, 'chosen', 200_000);
    const reading = readHashed(conn, 200_000, 10_000);
    await new Promise((r) => setTimeout(r, 50));
    const rec = await conn.migrate('s3');
    expect(rec.to).toBe('s3');
    expect(conn.member).toBe('s3');
    expect(servers.get('s3')!.sessionCount).toBe(1);
    for (let i = 0; i < 50 && servers.get('s1')!.sessionCount > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(servers.get('s1')!.sessionCount).toBe(0);
    expect((await reading).hash).toBe(expectedStreamHash('chosen', 200_000));
    conn.destroy();
  });

  it('serves plain TCP clients without migration', async () => {
    const pool = await makePool(1);
    servers = await startPool(pool);
    const [host, port] = pool.members[0]!.address.split(':') as [string, string];
    const sock = connect({ host, port: Number(port) });
    sock.write('STREAM legacy 100000\n');
    const h = createHash('sha256');
    let n = 0;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timeout')), 10_000);
      sock.on('data', (c: Buffer) => {
        h.update(c);
        n += c.length;
        if (n >= 100_000) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    expect(n).toBe(100_000);
    expect(h.digest('hex')).toBe(expectedStreamHash('legacy', 100_000));
    sock.destroy();
  });
});
