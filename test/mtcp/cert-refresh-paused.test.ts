import { afterEach, describe, expect, it } from 'vitest';
import { MtcpClientConnection } from '../../src/mtcp/client/client-connection.js';
import { expectedStreamHash } from '../../src/mtcp/examples/stream-protocol.js';
import { MtcpErrorCode } from '../../src/mtcp/errors.js';
import type { MtcpServer } from '../../src/mtcp/server/mtcp-server.js';
import { closeClientsAndPool, makePool, readHashed, request, startPool } from './support/pool.js';

/**
 * A connection whose reader is paused for longer than the certificate's lifetime can still
 * migrate (docs/mtcp.md, "Certificates and snapshot seals"). Before the fix the paused client
 * stopped reading its socket, so the CERT refreshes sat behind the DATA the member had sent up
 * to its window, and every member refused the old certificate as expired. The second case keeps
 * that failure reproducible: a client whose `heldOutputLimit` is below the member's window.
 */
const TTL = 1_000;
const WINDOW = 64 * 1024;
const LENGTH = 1 << 20;

let servers: Map<string, MtcpServer> | undefined;
const conns: MtcpClientConnection[] = [];
afterEach(async () => {
  await closeClientsAndPool(conns, servers);
  servers = undefined;
});

async function pausedPastExpiry(heldOutputLimit?: number): Promise<MtcpClientConnection> {
  const pool = await makePool(2);
  servers = await startPool(pool, { rate: 2_000_000 }, { certTtlMs: TTL, outputHighWater: WINDOW, outputLimit: 4 * WINDOW });
  const c = await new MtcpClientConnection({ address: pool.members[0]!.address, autoMigrate: false, standby: false, ...(heldOutputLimit ? { heldOutputLimit } : {}) }).connect();
  c.on('error', () => {});
  conns.push(c);
  const issued = c.certExpiresAt;
  c.pause();
  request(c, 'paused', LENGTH);
  // Paused for 2.5 certificate lifetimes: the first certificate is long expired.
  await new Promise((r) => setTimeout(r, 2.5 * TTL));
  expect(Date.now()).toBeGreaterThan(issued);
  return c;
}

describe('certificate refresh while the reader is paused', () => {
  it('a client paused past the certificate lifetime still migrates, and every byte arrives once', async () => {
    const c = await pausedPastExpiry();
    // The refreshes came in while paused: the certificate held now is valid.
    expect(c.certExpiresAt).toBeGreaterThan(Date.now());
    // The member is held at its window (held output is not acknowledged): not the whole stream.
    expect(c.bytesReceived).toBeLessThan(LENGTH);
    const rec = await c.migrate('s2');
    expect(rec.state).toBe('done');
    expect(rec.to).toBe('s2');
    const reading = readHashed(c, LENGTH, 20_000);
    c.resume();
    const got = await reading;
    expect(got.bytes).toBe(LENGTH);
    expect(got.hash).toBe(expectedStreamHash('paused', LENGTH));
  }, 30_000);

  it('without room to read past the member\'s window the refresh is stuck and the migration is refused (the failure before the fix)', async () => {
    const c = await pausedPastExpiry(4096);
    expect(c.certExpiresAt).toBeLessThan(Date.now());
    const failed = await c.migrate('s2').then(() => undefined, (err: { code?: string }) => err);
    expect(failed?.code).toBe(MtcpErrorCode.MIGRATION_FAILED);
    const rec = c.migrations.at(-1)!;
    // Every member asked (s2, back to s1, and again: 2 × pool size) refused the expired certificate.
    expect(rec.attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(rec.attempts.map((a) => a.error?.code))).toEqual(new Set([MtcpErrorCode.CERT_EXPIRED]));
  }, 30_000);
});
