import { afterEach, describe, expect, it } from 'vitest';
import { MtcpClientConnection } from '../../src/mtcp/client/client-connection.js';
import type { ServerMigrationRecord } from '../../src/mtcp/client/migration-record.js';
import { expectedStreamHash } from '../../src/mtcp/examples/stream-protocol.js';
import { MtcpErrorCode } from '../../src/mtcp/errors.js';
import type { MtcpServer } from '../../src/mtcp/server/mtcp-server.js';
import { makePool, readHashed, request, startPool, stopAll } from './support/pool.js';
import { reachableRedis } from './support/services.js';

const redis = await reachableRedis();
if (!redis) console.log('SKIP M-TCP Redis tests: no Redis at redis://127.0.0.1:6379 (run scripts/ci-mtcp.sh)');

let servers: Map<string, MtcpServer> | undefined;
afterEach(async () => {
  if (servers) await stopAll(servers.values());
  servers = undefined;
});

/** Streams, lets the serving member die mid-stream, and reports what the client saw. */
async function killMidStream(store: string): Promise<{ records: ServerMigrationRecord[]; error?: Error; hashOk: boolean }> {
  const pool = await makePool(3, store);
  servers = await startPool(pool, { rate: 500_000 });
  const conn = await new MtcpClientConnection({ address: pool.members[0]!.address }).connect();
  let error: Error | undefined;
  conn.on('error', (e) => (error = e));
  const length = 400_000;
  request(conn, `death-${store}`, length);
  const reading = readHashed(conn, length, 10_000).catch((e: Error) => e);
  await new Promise((r) => setTimeout(r, 60));
  await servers.get(conn.member)!.close(); // the member dies: sockets reset, port closed
  const got = await reading;
  const hashOk = !(got instanceof Error) && got.hash === expectedStreamHash(`death-${store}`, length);
  conn.destroy();
  return { records: conn.migrations, error, hashOk };
}

describe('only eager transfer survives the old member’s death', () => {
  it('lazy (memory store): the state died with its member; the connection fails cleanly', async () => {
    const r = await killMidStream("memory");
    expect(r.hashOk).toBe(false);
    expect(r.error).toMatchObject({ code: MtcpErrorCode.MIGRATION_FAILED });
    const attempts = r.records[0]!.attempts;
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts.every((a) => !a.ok)).toBe(true);
    expect(attempts.some((a) => a.error?.code === MtcpErrorCode.STATE_UNAVAILABLE)).toBe(true);
  });

  it('eager push to the other members: the stream resumes with exact bytes', async () => {
    const r = await killMidStream('push');
    expect(r.error).toBeUndefined();
    expect(r.hashOk).toBe(true);
    expect(r.records[0]).toMatchObject({ state: 'done', trigger: 'failure', transfer: { source: 'store' } });
  });

  it.skipIf(!redis)('eager through Redis: the stream resumes with exact bytes', async () => {
    const r = await killMidStream(redis!);
    expect(r.error).toBeUndefined();
    expect(r.hashOk).toBe(true);
    expect(r.records[0]).toMatchObject({ state: 'done', trigger: 'failure', transfer: { source: 'store' } });
  });

  it.skipIf(!redis)('Redis: on-demand migration while the old member lives still goes lazy (it has the input log)', async () => {
    const pool = await makePool(2, redis!);
    servers = await startPool(pool, { rate: 1_000_000 });
    const conn = await new MtcpClientConnection({ address: pool.members[0]!.address }).connect();
    request(conn, 'redis-demand', 150_000);
    const reading = readHashed(conn, 150_000, 10_000);
    await new Promise((r) => setTimeout(r, 40));
    const rec = await conn.migrate();
    expect(rec.transfer?.source).toBe('peer');
    expect((await reading).hash).toBe(expectedStreamHash('redis-demand', 150_000));
    conn.destroy();
  });
});
