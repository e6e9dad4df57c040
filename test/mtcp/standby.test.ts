import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MtcpClientConnection } from '../../src/mtcp/client/client-connection.js';
import { expectedStreamHash } from '../../src/mtcp/examples/stream-protocol.js';
import type { MtcpServer } from '../../src/mtcp/server/mtcp-server.js';
import { makePool, readHashed, request, startPool, stopAll } from './support/pool.js';
import { killMember, spawnMember, type MemberProcess } from './support/member-process.js';

/**
 * The standby connection (docs/mtcp.md, "Standby connection"): an idle, already-connected TCP
 * connection to the next member, on which a migration sends its hello at once.
 */
let servers: Map<string, MtcpServer> | undefined;
let conn: MtcpClientConnection | undefined;
afterEach(async () => {
  conn?.destroy();
  conn = undefined;
  if (servers) await stopAll(servers.values());
  servers = undefined;
});

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Three in-process members streaming `length` bytes of `tag` to a client whose standby points at
 * s2, a little under way; resolves with the hashed reading to await at the end.
 */
async function streamingWithStandbyToS2(tag: string, length: number, settleMs = 30) {
  const pool = await makePool(3);
  const started = await startPool(pool, { rate: 2_000_000 });
  servers = started;
  const client = await new MtcpClientConnection({ address: pool.members[0]!.address }).connect();
  conn = client;
  await until(() => client.standbyMember === 's2', 'a standby to s2');
  request(client, tag, length);
  const reading = readHashed(client, length, 10_000);
  await new Promise((r) => setTimeout(r, settleMs));
  return { client, servers: started, reading };
}

describe('M-TCP standby connection', () => {
  it('migrates over the standby (one hello, no new TCP connection) and keeps every byte exactly once', async () => {
    const length = 300_000;
    const { client, reading } = await streamingWithStandbyToS2('standby', length, 40);
    const rec = await client.migrate();
    expect(rec.via).toBe('standby');
    expect(rec.to).toBe('s2');
    expect(rec.attempts).toEqual([{ member: 's2', ok: true }]);
    expect(rec.transfer?.source).toBe('peer');
    // The used standby is replaced by one to the member after s2.
    await until(() => client.standbyMember === 's3', 'a standby to s3');
    // A target named explicitly that is the standby's member also goes over it.
    const rec2 = await client.migrate('s3');
    expect(rec2.via).toBe('standby');
    expect(rec2.to).toBe('s3');
    const got = await reading;
    expect(got.bytes).toBe(length);
    expect(got.hash).toBe(expectedStreamHash('standby', length));
    // At most one standby per connection: 3 opened (to s2, s3, then s1), none left after destroy.
    await until(() => client.standbyMember === 's1', 'a standby to s1');
    expect(client.standbyOpened).toBe(3);
    client.destroy();
    expect(client.standbyMember).toBeUndefined();
  });

  it('takes a migration to another member than the standby over a new connection', async () => {
    const { client, reading } = await streamingWithStandbyToS2('other', 200_000);
    const rec = await client.migrate('s3');
    expect(rec.via).toBe('connect');
    expect(rec.to).toBe('s3');
    expect((await reading).hash).toBe(expectedStreamHash('other', 200_000));
    await until(() => client.standbyMember === 's1', 'a standby to s1 (next after s3)');
  });

  it('with standby: false, migrates over a new connection as before', async () => {
    const pool = await makePool(2);
    servers = await startPool(pool, { rate: 2_000_000 });
    conn = await new MtcpClientConnection({ address: pool.members[0]!.address, standby: false }).connect();
    request(conn, 'nostandby', 150_000);
    const reading = readHashed(conn, 150_000, 10_000);
    await new Promise((r) => setTimeout(r, 30));
    const rec = await conn.migrate();
    expect(rec.via).toBe('connect');
    expect(conn.standbyOpened).toBe(0);
    expect((await reading).hash).toBe(expectedStreamHash('nostandby', 150_000));
  });

  it('re-opens a standby its member closed for idleness, and a member never serves it as a plain client', async () => {
    const pool = await makePool(2);
    servers = await startPool(pool, { rate: 2_000_000 }, { idleBeforeHelloMs: 200, helloTimeoutMs: 100 });
    const sessions: string[] = [];
    for (const s of servers.values()) s.on('session', (x: { id: string }) => sessions.push(x.id));
    conn = await new MtcpClientConnection({ address: pool.members[0]!.address, retryDelayMs: 50, standbyMaxRetryMs: 100 }).connect();
    await until(() => conn!.standbyOpened >= 3 && conn!.standbyMember === 's2', 'the standby re-opened twice');
    // Only the connection's own session: the idle standbys were never handed to the handler.
    expect(sessions.length).toBe(1);
    request(conn, 'reopened', 100_000);
    const reading = readHashed(conn, 100_000, 10_000);
    await until(() => conn!.standbyMember === 's2', 'a standby to s2');
    const rec = await conn.migrate();
    expect(rec.to).toBe('s2');
    expect((await reading).hash).toBe(expectedStreamHash('reopened', 100_000));
  });

  it('keeps an idle connection open past the hello timeout, closes it after idleBeforeHelloMs', async () => {
    const pool = await makePool(1);
    servers = await startPool(pool, {}, { idleBeforeHelloMs: 400, helloTimeoutMs: 100 });
    const [host, port] = pool.members[0]!.address.split(':') as [string, string];
    const t0 = Date.now();
    const sock: Socket = connect({ host, port: Number(port) });
    sock.on('error', () => {});
    const closedAfter = await new Promise<number>((resolve) => sock.once('close', () => resolve(Date.now() - t0)));
    expect(closedAfter).toBeGreaterThanOrEqual(350);
    expect(closedAfter).toBeLessThan(3000);
  });

  it('falls back to a new connection when the standby died unnoticed (closed in the same turn as the migration)', async () => {
    const { client, servers: pool, reading } = await streamingWithStandbyToS2('unnoticed', 200_000);
    // close() resets s2's sockets at once, but the client sees that only on its next I/O turn:
    // the migration takes a standby that is already dead.
    const closing = pool.get('s2')!.close();
    const rec = await client.migrate();
    await closing;
    expect(rec.standbyFallback?.member).toBe('s2');
    expect(rec.via).toBe('connect');
    expect(rec.attempts.map((a) => [a.member, a.ok])).toEqual([
      ['s2', false],
      ['s3', true],
    ]);
    expect((await reading).hash).toBe(expectedStreamHash('unnoticed', 200_000));
  });

  it('falls back to a new connection when the standby member was killed (SIGKILL)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsmp-standby-'));
    const members = new Map<string, MemberProcess>();
    try {
      const pool = await makePool(3);
      const poolFile = join(dir, 'pool.json');
      writeFileSync(poolFile, JSON.stringify(pool));
      await Promise.all(pool.members.map(async (m) => members.set(m.id, await spawnMember(poolFile, m.id, 2_000_000))));
      conn = await new MtcpClientConnection({ address: pool.members[0]!.address }).connect();
      await until(() => conn!.standbyMember === 's2', 'a standby to s2', 10_000);
      const length = 300_000;
      request(conn, 'killed-standby', length);
      const reading = readHashed(conn, length, 20_000);
      await new Promise((r) => setTimeout(r, 40));
      await killMember(members.get('s2')!);
      const rec = await conn.migrate();
      expect(rec.to).toBe('s3');
      expect(rec.via).toBe('connect');
      expect(rec.attempts[0]).toMatchObject({ member: 's2', ok: false });
      expect(rec.attempts.at(-1)).toMatchObject({ member: 's3', ok: true });
      const got = await reading;
      expect(got.bytes).toBe(length);
      expect(got.hash).toBe(expectedStreamHash('killed-standby', length));
    } finally {
      conn?.destroy();
      conn = undefined;
      await Promise.all([...members.values()].map((m) => killMember(m)));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
