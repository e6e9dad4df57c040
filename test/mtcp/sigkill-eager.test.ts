import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MtcpClientConnection } from '../../src/mtcp/client/client-connection.js';
import type { ServerMigrationRecord } from '../../src/mtcp/client/migration-record.js';
import { expectedStreamHash } from '../../src/mtcp/examples/stream-protocol.js';
import type { PoolConfig } from '../../src/mtcp/server/pool-config.js';
import { makePool, readHashed, request } from './support/pool.js';
import { killMember, memberScript, spawnMember, SparePool, type MemberProcess } from './support/member-process.js';

/**
 * Issue 5: "Kill the serving server with SIGKILL at a random moment mid-stream … Repeat this 100
 * times at random moments, bounded in time, with hash checks." Each kill ends a real process; a
 * warm spare (support/member-process.ts) takes the dead member's id and port a few ms later, so
 * the pool also sees members that come back empty (no replicas) while connections go on.
 */
const REPETITIONS = Number(process.env.MTCP_KILL_REPS ?? 100);
/**
 * The whole run must stay inside this on an unloaded machine (about 25 s on 2 free cores). The
 * run is CPU-bound (a Node process starts per kill: ~0.2 CPU-s), so on a shared machine the bound
 * is stretched by the CPU contention other processes cause, measured before the test starts any
 * (wall time / CPU time of short busy loops); both are printed.
 */
const TIME_BOUND_MS = Number(process.env.MTCP_KILL_BOUND_MS ?? 55_000);
const RATE = 4_000_000; // bytes/s: a stream of 40-200 kB lasts 10-50 ms, so kills land mid-stream
const MEMBERS = 3;

/** Wall time / CPU time of a 20 ms busy loop: 1 on a free core, n when n runnable threads share it. */
function busyLoopStretch(): number {
  const w0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let cpu = 0;
  while (cpu < 20_000) {
    for (let i = 0; i < 10_000; i++) Math.sqrt(i);
    const c = process.cpuUsage(c0);
    cpu = c.user + c.system;
  }
  return Number(process.hrtime.bigint() - w0) / 1000 / cpu;
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
}

describe(`M-TCP: SIGKILL the serving member mid-stream, eager push transfer (${REPETITIONS} repetitions)`, () => {
  let dir: string;
  let pool: PoolConfig;
  let poolFile: string;
  let spares: SparePool;
  const members = new Map<string, MemberProcess>();
  let externalLoad = 1;
  const alive = (m: MemberProcess | undefined): boolean => !!m && m.child.exitCode === null && m.child.signalCode === null;

  beforeAll(async () => {
    const samples: number[] = [];
    for (let i = 0; i < 7; i++) {
      samples.push(busyLoopStretch());
      await new Promise((r) => setTimeout(r, 30));
    }
    externalLoad = pct(samples, 0.5);
    dir = mkdtempSync(join(tmpdir(), 'tsmp-mtcp-'));
    pool = await makePool(MEMBERS, 'push');
    poolFile = join(dir, 'pool.json');
    writeFileSync(poolFile, JSON.stringify(pool));
    await Promise.all(pool.members.map(async (m) => members.set(m.id, await spawnMember(poolFile, m.id, RATE))));
    spares = new SparePool(poolFile, RATE, 3);
    spares.fill();
  });

  afterAll(async () => {
    await spares?.close();
    await Promise.all([...members.values()].map((m) => killMember(m)));
    rmSync(dir, { recursive: true, force: true });
    rmSync(await memberScript(), { force: true });
  });

  it('delivers the exact byte stream after every kill, within the time bound', async () => {
    const started = Date.now();
    const cpu0 = process.cpuUsage();
    const migrations: ServerMigrationRecord[] = [];
    const replacing = new Map<string, Promise<void>>();
    let waitedMs = 0;
    for (let rep = 0; rep < REPETITIONS; rep++) {
      // Need the member we start on and at least one more to migrate to.
      const up = (): string[] => pool.members.map((m) => m.id).filter((id) => !replacing.has(id) && alive(members.get(id)));
      const w0 = Date.now();
      while (up().length < 2) await Promise.race(replacing.values());
      waitedMs += Date.now() - w0;
      const live = up();
      const first = pool.members.find((m) => m.id === live[rep % live.length])!;
      const conn = await new MtcpClientConnection({ address: first.address, silenceTimeoutMs: 2000 }).connect();
      const errors: Error[] = [];
      conn.on('error', (e) => errors.push(e));
      const length = 40_000 + Math.floor(Math.random() * 160_000);
      const seed = `kill-${rep}`;
      request(conn, seed, length);
      const reading = readHashed(conn, length, 10_000);
      const killAt = Math.floor(Math.random() * (length / RATE) * 1000);
      await new Promise((r) => setTimeout(r, killAt));
      const victim = members.get(conn.member)!;
      await killMember(victim);
      // The dead member's id and port are taken over by a warm spare right away (empty store).
      replacing.set(
        victim.id,
        spares.take(victim.id).then((m) => {
          members.set(victim.id, m);
          replacing.delete(victim.id);
        }),
      );
      const got = await reading.catch((e: Error) => {
        throw new Error(`rep ${rep} (seed ${seed}, ${length} B, kill at ${killAt} ms of ${victim.id}, up: ${live.join(',')}): ${e.message}\n${JSON.stringify(conn.migrations, null, 1)}`);
      });
      expect(errors).toEqual([]);
      // A kill after the last byte leaves a migration under way when the stream is complete; none
      // may have failed (no member took the connection).
      expect(conn.migrations.filter((m) => m.state === 'failed'), `rep ${rep}`).toEqual([]);
      expect(got.bytes, `rep ${rep}`).toBe(length);
      expect(got.hash, `rep ${rep}: seed ${seed} killed at ${killAt} ms`).toBe(expectedStreamHash(seed, length));
      migrations.push(...conn.migrations.filter((m) => m.state === 'done'));
      conn.destroy();
    }
    await Promise.all(replacing.values());
    const elapsed = Date.now() - started;
    const cpu = process.cpuUsage(cpu0);
    const stretch = Math.max(1, externalLoad);
    const bound = Math.round(TIME_BOUND_MS * stretch);
    const done = migrations.filter((m) => m.state === 'done');
    const resume = done.map((m) => m.timings.resumeMs!);
    const transfer = done.map((m) => m.transfer!.ms);
    const reconnect = done.map((m) => m.timings.reconnectMs!);
    console.log(
      `sigkill: ${REPETITIONS} kills in ${elapsed} ms (bound ${bound} ms: ${TIME_BOUND_MS} × CPU contention ${stretch.toFixed(2)}; ` +
        `${waitedMs} ms waiting for replacements, test process CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms), ${done.length} migrations; ` +
        `resume p50 ${pct(resume, 0.5)} ms p99 ${pct(resume, 0.99)} ms, transfer p50 ${pct(transfer, 0.5).toFixed(1)} ms, reconnect p50 ${pct(reconnect, 0.5)} ms`,
    );
    // Kills that land after the last byte need no migration; most land mid-stream.
    expect(done.length).toBeGreaterThanOrEqual(REPETITIONS * 0.5);
    expect(elapsed).toBeLessThan(bound);
  }, 300_000);

  it('migrates when the serving member falls silent (SIGSTOP), with exact bytes', async () => {
    const start = pool.members.find((m) => alive(members.get(m.id)))!;
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
    }
  }, 30_000);
});
