import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MtcpClientConnection } from '../../src/mtcp/client/client-connection.js';
import { expectedStreamHash } from '../../src/mtcp/examples/stream-protocol.js';
import type { MtcpServer } from '../../src/mtcp/server/mtcp-server.js';
import { makePool, readHashed, request, startPool, stopAll } from './support/pool.js';

const REPETITIONS = Number(process.env.MTCP_DEMAND_REPS ?? 100);
const RATE = 8_000_000;

describe(`M-TCP: on-demand migration at random moments (${REPETITIONS} repetitions, lazy transfer)`, () => {
  let servers: Map<string, MtcpServer>;
  let pool: Awaited<ReturnType<typeof makePool>>;
  beforeAll(async () => {
    pool = await makePool(3);
    // A resume whose answer the client gave up on (hello timeout on a loaded machine) leaves an
    // orphan; a short retention lets the check below see every member empty.
    servers = await startPool(pool, { rate: RATE }, { orphanRetentionMs: 4000 });
  });
  afterAll(async () => stopAll(servers.values()));

  it('every stream arrives exactly, whatever the moment of migration', async () => {
    const started = Date.now();
    const transfer: number[] = [];
    const resume: number[] = [];
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const conn = await new MtcpClientConnection({ address: pool.members[rep % 3]!.address }).connect();
      const length = 20_000 + Math.floor(Math.random() * 200_000);
      const seed = `demand-${rep}`;
      request(conn, seed, length);
      const reading = readHashed(conn, length, 10_000);
      await new Promise((r) => setTimeout(r, Math.random() * (length / RATE) * 1000));
      const to = rep % 4 === 0 ? undefined : pool.members[(rep + 1 + (rep % 2)) % 3]!.id;
      const rec = await conn.migrate(to);
      const got = await reading;
      expect(got.bytes).toBe(length);
      expect(got.hash, `rep ${rep}`).toBe(expectedStreamHash(seed, length));
      expect(rec.state).toBe('done');
      transfer.push(rec.transfer!.ms);
      resume.push(rec.timings.resumeMs!);
      // Graceful end: both sides END, the member sees every byte acknowledged and lets go.
      const closed = new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`rep ${rep}: no close after end`)), 5000);
        conn.once('close', () => (clearTimeout(t), resolve()));
      });
      conn.end();
      await closed;
    }
    const elapsed = Date.now() - started;
    const p = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
    console.log(`on-demand: ${REPETITIONS} reps in ${elapsed} ms; transfer p50 ${p(transfer, 0.5).toFixed(2)} ms, resume p50 ${p(resume, 0.5)} ms p99 ${p(resume, 0.99)} ms`);
    expect(elapsed).toBeLessThan(80_000);
    // No session is left behind on any member.
    for (let i = 0; i < 60 && [...servers.values()].some((s) => s.sessionCount > 0); i++) await new Promise((r) => setTimeout(r, 100));
    for (const s of servers.values()) expect(s.sessionCount).toBe(0);
  }, 90_000);
});
