import { afterEach, describe, expect, it } from 'vitest';
import { MtcpClientConnection } from '../../src/mtcp/client/client-connection.js';
import { handshake } from '../../src/mtcp/client/client-handshake.js';
import { derivePoolKeys } from '../../src/mtcp/cert/pool-keys.js';
import { issueCertificate, verifyCertificate } from '../../src/mtcp/cert/migration-certificate.js';
import { openRecord, sealRecord, type SnapshotRecord } from '../../src/mtcp/state/snapshot-record.js';
import { PushSnapshotStore } from '../../src/mtcp/state/push-store.js';
import { expectedStreamHash } from '../../src/mtcp/examples/stream-protocol.js';
import { MtcpErrorCode } from '../../src/mtcp/errors.js';
import type { MtcpServer } from '../../src/mtcp/server/mtcp-server.js';
import { until } from '../support/proxy-harness.js';
import { closeClientsAndPool, makePool, readHashed, request, startPool } from './support/pool.js';

let servers: Map<string, MtcpServer> | undefined;
const conns: MtcpClientConnection[] = [];
afterEach(async () => {
  await closeClientsAndPool(conns, servers);
  servers = undefined;
});

async function open(address: string): Promise<MtcpClientConnection> {
  const c = await new MtcpClientConnection({ address, autoMigrate: false }).connect();
  c.on('error', () => {});
  conns.push(c);
  return c;
}

/** A resume hello over a raw socket; resolves with the member's refusal code (or 'accepted'). */
async function resumeCode(address: string, cid: string, cert: string, from: string, epoch = 1, out = 0, inn = 0): Promise<string> {
  try {
    const r = await handshake(address, { mode: 'resume', cid, cert, from, out, in: inn, inHeld: 0, epoch }, 5000, 1 << 20);
    r.socket.destroy();
    return 'accepted';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

describe('migration certificates', () => {
  const key = derivePoolKeys('a pool secret of some length').cert;

  it('verifies a good one and refuses tampering, another key, expiry and another connection', () => {
    const { cert } = issueCertificate(key, 'c1', 's1', 60_000);
    expect(verifyCertificate(key, cert, 'c1').iss).toBe('s1');
    const [v, body, mac] = cert.split('.') as [string, string, string];
    const forgedBody = Buffer.from(Buffer.from(body, 'base64url').toString().replace('"c1"', '"c2"')).toString('base64url');
    expect(() => verifyCertificate(key, `${v}.${forgedBody}.${mac}`, 'c2')).toThrow(expect.objectContaining({ code: MtcpErrorCode.CERT_INVALID }));
    const other = derivePoolKeys('another pool secret value').cert;
    expect(() => verifyCertificate(other, cert, 'c1')).toThrow(expect.objectContaining({ code: MtcpErrorCode.CERT_INVALID }));
    const old = issueCertificate(key, 'c1', 's1', 1000, Date.now() - 5000).cert;
    expect(() => verifyCertificate(key, old, 'c1')).toThrow(expect.objectContaining({ code: MtcpErrorCode.CERT_EXPIRED }));
    expect(() => verifyCertificate(key, cert, 'c2')).toThrow(expect.objectContaining({ code: MtcpErrorCode.CERT_WRONG_CONNECTION }));
    expect(() => verifyCertificate(key, 'v1.garbage', 'c1')).toThrow(expect.objectContaining({ code: MtcpErrorCode.CERT_INVALID }));
  });

  it('members refuse forged, expired and replayed certificates over the wire', async () => {
    const pool = await makePool(2);
    servers = await startPool(pool, { rate: 200_000 });
    const a = await open(pool.members[0]!.address);
    const b = await open(pool.members[0]!.address);
    const target = pool.members[1]!.address;
    const keys = derivePoolKeys(pool.key);

    const forged = issueCertificate(derivePoolKeys('not the pool key at all!').cert, a.cid, 's1', 60_000).cert;
    expect(await resumeCode(target, a.cid, forged, 's1')).toBe(MtcpErrorCode.CERT_INVALID);
    const expired = issueCertificate(keys.cert, a.cid, 's1', 1000, Date.now() - 10_000).cert;
    expect(await resumeCode(target, a.cid, expired, 's1')).toBe(MtcpErrorCode.CERT_EXPIRED);
    // A's genuine certificate presented to take over B.
    expect(await resumeCode(target, b.cid, a.cert, 's1')).toBe(MtcpErrorCode.CERT_WRONG_CONNECTION);
    // Nothing was taken over: both connections still live on s1 and serve exact bytes.
    expect(servers.get('s1')!.sessionCount).toBe(2);
    request(b, 'still-mine', 20_000);
    expect((await readHashed(b, 20_000, 5000)).hash).toBe(expectedStreamHash('still-mine', 20_000));
  });

  it('the certificate is refreshed before it expires, so a late migration still works', async () => {
    const pool = await makePool(2);
    // Refreshed at half-life (1.5 s); the wait passes it, the migration comes well before expiry.
    servers = await startPool(pool, { rate: 500_000 }, { certTtlMs: 3_000 });
    const c = await open(pool.members[0]!.address);
    const first = c.cert;
    await until(() => c.cert !== first, 10_000);
    expect(c.cert).not.toBe(first);
    expect(c.certExpiresAt).toBeGreaterThan(Date.now());
    request(c, 'late', 30_000);
    const reading = readHashed(c, 30_000, 5000);
    const rec = await c.migrate('s2');
    expect(rec.state).toBe('done');
    expect((await reading).hash).toBe(expectedStreamHash('late', 30_000));
  });
});

describe('snapshot binding', () => {
  const key = derivePoolKeys('a pool secret of some length').snapshot;
  const base = { v: 1 as const, cid: 'c1', seq: 3, owner: 's1', takenAt: 1, in: 10, out: 4, outAcked: 2, state: '{"x":1}', unacked: Buffer.from('ab').toString('base64') };

  it('a record opens only for its own connection and only unmodified', () => {
    const r = sealRecord(key, base);
    expect(openRecord(key, r, 'c1').state).toBe('{"x":1}');
    expect(() => openRecord(key, r, 'c2')).toThrow(expect.objectContaining({ code: MtcpErrorCode.SNAPSHOT_INVALID }));
    expect(() => openRecord(key, { ...r, cid: 'c2' }, 'c2')).toThrow(/seal does not verify/);
    expect(() => openRecord(key, { ...r, state: '{"x":2}' }, 'c1')).toThrow(/seal does not verify/);
    expect(() => openRecord(key, { ...r, in: 11 }, 'c1')).toThrow(/seal does not verify/);
    expect(() => openRecord(derivePoolKeys('other secret, other pool').snapshot, r, 'c1')).toThrow(/seal does not verify/);
  });

  /** Two connections on s1 (push store); B is streaming when the test poisons stores and kills s1. */
  async function poisonedPool(): Promise<{ a: MtcpClientConnection; b: MtcpClientConnection; readingB: Promise<{ hash: string; bytes: number }> }> {
    const pool = await makePool(3, 'push');
    servers = await startPool(pool, { rate: 300_000 });
    const a = await open(pool.members[0]!.address);
    const b = await open(pool.members[0]!.address);
    request(a, 'conn-a', 60_000);
    request(b, 'conn-b', 60_000);
    const readingB = readHashed(b, 60_000, 10_000);
    await new Promise((r) => setTimeout(r, 80));
    return { a, b, readingB };
  }

  /** An attacker with write access to a member's store puts A's newest record under B's id. */
  async function poison(member: string, a: MtcpClientConnection, b: MtcpClientConnection): Promise<void> {
    const store = servers!.get(member)!.store as PushSnapshotStore;
    const recA = (await store.load(a.cid)) as SnapshotRecord;
    expect(recA).toBeDefined();
    store.acceptReplica({ ...recA, cid: b.cid, seq: 1e9 });
  }

  it("a member never imports one connection's snapshot into another; it resumes from a valid replica", async () => {
    const { a, b, readingB } = await poisonedPool();
    await poison('s2', a, b);
    const invalid: Array<{ where: string; code: string }> = [];
    servers!.get('s2')!.on('invalid-snapshot', (e: { where: string; code: string }) => invalid.push(e));
    // s1 dies; B's client tries s2, whose own record is poisoned: s2 refuses that record and
    // takes B's newest valid replica (s3 holds one). B must get exactly its own stream.
    const migrated = new Promise<Awaited<ReturnType<MtcpClientConnection['migrate']>>>((r) => b.once('migrated', r));
    (b.opts as { autoMigrate: boolean }).autoMigrate = true;
    await servers!.get('s1')!.close();
    const rec = await migrated;
    expect(invalid).toContainEqual(expect.objectContaining({ where: 'store', code: MtcpErrorCode.SNAPSHOT_INVALID }));
    expect(rec).toMatchObject({ to: 's2', transfer: { source: 'store' } });
    expect((await readingB).hash).toBe(expectedStreamHash('conn-b', 60_000));
  });

  it('with every copy poisoned, members refuse the resume (nothing is imported)', async () => {
    const { a, b, readingB } = await poisonedPool();
    await poison('s2', a, b);
    await poison('s3', a, b);
    const rejected: string[] = [];
    for (const id of ['s2', 's3']) servers!.get(id)!.on('rejected', (r: { code: string }) => rejected.push(r.code));
    const failed = new Promise<Awaited<ReturnType<MtcpClientConnection['migrate']>>>((r) => b.once('migration-failed', r));
    (b.opts as { autoMigrate: boolean }).autoMigrate = true;
    await servers!.get('s1')!.close();
    const rec = await failed;
    expect(rejected.length).toBeGreaterThanOrEqual(2);
    expect(rejected.every((c) => c === MtcpErrorCode.SNAPSHOT_INVALID)).toBe(true);
    expect(rec.attempts.filter((t) => t.member !== 's1').every((t) => !t.ok && t.error?.code === MtcpErrorCode.SNAPSHOT_INVALID)).toBe(true);
    await expect(readingB).rejects.toMatchObject({ code: MtcpErrorCode.MIGRATION_FAILED });
  });
});

describe('resume ordering', () => {
  it('a late resume (older attempt) cannot take the connection from a newer one, even through forwarding', async () => {
    const pool = await makePool(3);
    servers = await startPool(pool, { rate: 500_000 });
    const c = await open(pool.members[0]!.address);
    request(c, 'ordering', 200_000);
    const reading = readHashed(c, 200_000, 15_000);
    await new Promise((r) => setTimeout(r, 50));
    const rec = await c.migrate('s2'); // attempt 1: s1 hands over to s2 and keeps a pointer
    expect(rec.to).toBe('s2');
    // Attempt 1 again, as if its first try had been delayed, arrives at s3 naming s1 as the old
    // member: s3 asks s1, is forwarded to s2, and s2 (holding attempt 1) refuses.
    const code = await resumeCode(pool.members[2]!.address, c.cid, c.cert, 's1', 1, c.bytesReceived, c.bytesSent);
    expect(code).toBe(MtcpErrorCode.STALE);
    expect(servers.get('s2')!.sessionCount).toBe(1);
    expect(servers.get('s3')!.sessionCount).toBe(0);
    // The real client's next attempt (a newer epoch) is served normally.
    const rec2 = await c.migrate('s3');
    expect(rec2).toMatchObject({ to: 's3', transfer: { source: 'peer' } });
    expect((await reading).hash).toBe(expectedStreamHash('ordering', 200_000));
  });
});
