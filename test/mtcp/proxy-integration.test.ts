import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mtcpOptions } from '../../src/cli/commands/proxy.js';
import { expectedStreamHash, formatStreamRequest } from '../../src/mtcp/examples/stream-protocol.js';
import { profileRate } from '../../src/mtcp/examples/degrading-scenario.js';
import type { MtcpServer } from '../../src/mtcp/server/mtcp-server.js';
import type { PoolConfig } from '../../src/mtcp/server/pool-config.js';
import type { ProxyOptions } from '../../src/proxy/proxy-options.js';
import { MtcpPoolTable, parsePoolAddressList, parsePoolFileForProxy } from '../../src/proxy/upstream/mtcp-pools.js';
import { collect, did, startProxy, TOKENS, until, type Harness } from '../support/proxy-harness.js';
import { spawnProxy } from '../support/proxy-process.js';
import { socksConnect } from '../support/socks-client.js';
import { startStreamServer } from '../support/stream-server.js';
import { killMember, memberScript, spawnMember, type MemberProcess } from './support/member-process.js';
import { makePool, startPool, stopAll } from './support/pool.js';

/**
 * The tsmp proxy as the client-side M-TCP endpoint (issue 5): a legacy client speaks plain SOCKS5
 * to the proxy and plain TCP through it; the proxy talks M-TCP to the pool. Every stream is
 * checked byte for byte against the sample server's SHA-256 sequence.
 */

const mtcpFor = (pool: PoolConfig, extra: Partial<NonNullable<ProxyOptions['mtcp']>> = {}): ProxyOptions['mtcp'] => ({
  pools: [{ name: 'test', members: pool.members.map((m) => ({ id: m.id, address: m.address })) }],
  ...extra,
});

/** A legacy client: SOCKS5 to the proxy, then `STREAM <seed> <length>\n`, reading everything. */
async function legacyStream(h: Harness, device: keyof typeof TOKENS, address: string, seed: string, length: number) {
  const [host, port] = address.split(':') as [string, string];
  const { socket } = await socksConnect(h.port, did(device), TOKENS[device], host, Number(port));
  const got = collect(socket);
  socket.write(formatStreamRequest({ seed, length }));
  return { socket, got };
}

async function connectionTo(h: Harness, address: string): Promise<any> {
  const list = (await h.api('phone', 'GET', '/v1/connections')).json.connections as any[];
  const c = list.find((x) => x.destination === address && x.state !== 'closed');
  if (!c) throw new Error(`no connection to ${address}: ${JSON.stringify(list)}`);
  return c;
}

async function migrationEnds(h: Harness, id: string, timeoutMs = 10_000): Promise<any> {
  let m: any;
  await until(async () => {
    m = (await h.api('phone', 'GET', `/v1/migrations/${id}`)).json;
    return m.state === 'done' || m.state === 'failed';
  }, timeoutMs, `server migration ${id}`);
  return m;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hashOf = (chunks: Buffer[]) => createHash('sha256').update(Buffer.concat(chunks)).digest('hex');

describe('proxy ↔ M-TCP: options', () => {
  it('parses pools from addresses and from a pool file without a key, and refuses what cannot work', () => {
    expect(parsePoolAddressList('127.0.0.1:7101, 127.0.0.1:7102')).toEqual({
      name: '127.0.0.1:7101',
      members: [{ address: '127.0.0.1:7101' }, { address: '127.0.0.1:7102' }],
    });
    expect(() => parsePoolAddressList('')).toThrow(/HOST:PORT/);
    expect(() => parsePoolAddressList('127.0.0.1:0')).toThrow(/port 0/);
    const fromFile = parsePoolFileForProxy({ members: [{ id: 's1', address: '[::1]:7101' }], store: 'push', extra: 1 }, 'pool.json');
    expect(fromFile.members).toEqual([{ id: 's1', address: '[::1]:7101' }]);
    expect(() => parsePoolFileForProxy({ key: 'x'.repeat(20) }, 'pool.json')).toThrow(/members/);

    const dir = mkdtempSync(join(tmpdir(), 'tsmp-mtcp-opts-'));
    try {
      const file = join(dir, 'pool.json');
      writeFileSync(file, JSON.stringify({ key: 'a-long-enough-shared-secret', members: [{ id: 'a', address: '10.0.0.1:80' }, { id: 'b', address: '10.0.0.2:80' }] }));
      const o = mtcpOptions({ mtcpPool: ['127.0.0.1:7101'], mtcpPoolFile: [file], mtcpPolicyFraction: '0.4', mtcpSilenceTimeout: '500ms' }).mtcp!;
      expect(o.pools.map((p) => p.members.length)).toEqual([1, 2]);
      expect(o.policyFraction).toBe(0.4);
      expect(o.silenceTimeoutMs).toBe(500);
      expect(mtcpOptions({ mtcpPool: [], mtcpPoolFile: [], mtcpSilenceTimeout: '3s' })).toEqual({});
      expect(() => mtcpOptions({ mtcpPool: [], mtcpPoolFile: [], mtcpPolicyFraction: '0.5', mtcpSilenceTimeout: '3s' })).toThrow(/needs --mtcp-pool/);
      expect(() => mtcpOptions({ mtcpPool: ['127.0.0.1:1'], mtcpPoolFile: [], mtcpPolicyFraction: '1.5', mtcpSilenceTimeout: '3s' })).toThrow(/between 0 and 1/);
      expect(() => mtcpOptions({ mtcpPool: ['127.0.0.1:1', '127.0.0.1:1,127.0.0.1:2'], mtcpPoolFile: [], mtcpSilenceTimeout: '3s' })).toThrow(/two pools/);
      expect(() => mtcpOptions({ mtcpPool: [], mtcpPoolFile: [join(dir, 'missing.json')], mtcpSilenceTimeout: '3s' })).toThrow(/cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('matches destinations by address as the client named it, and tries the named member first', () => {
    const pool = parsePoolAddressList('Example.org:7101,127.0.0.1:7102,127.0.0.1:7103');
    const table = new MtcpPoolTable([pool]);
    expect(table.match({ host: 'example.ORG', port: 7101 })).toBe(pool);
    expect(table.match({ host: '127.0.0.1', port: 7104 })).toBeUndefined();
    expect(table.match({ host: 'localhost', port: 7102 })).toBeUndefined();
    expect(table.firstContact({ host: '127.0.0.1', port: 7103 }, pool).map((m) => m.address)).toEqual(['127.0.0.1:7103', 'Example.org:7101', '127.0.0.1:7102']);
  });
});

describe('proxy ↔ M-TCP: a legacy client through the proxy (in-process pool)', () => {
  let h: Harness | undefined;
  let servers: Map<string, MtcpServer> | undefined;
  afterEach(async () => {
    await h?.close();
    if (servers) await stopAll(servers.values());
    h = servers = undefined;
  });

  it('100 on-demand server migrations at random moments, exact bytes, records and metrics', async () => {
    const pool = await makePool(3, 'push');
    servers = await startPool(pool, { rate: 1_500_000 });
    h = await startProxy({ mtcp: mtcpFor(pool) });
    const started = Date.now();
    const TOTAL = Number(process.env.MTCP_PROXY_DEMAND_REPS ?? 100);
    const PER_CONNECTION = 10;
    let migrations = 0;
    let connections = 0;
    const resumeMs: number[] = [];
    for (let i = 0; migrations < TOTAL && i < 40; i++) {
      connections++;
      const member = pool.members[i % 3]!;
      const length = 300_000 + Math.floor(Math.random() * 300_000);
      const seed = `demand-${i}`;
      const { socket, got } = await legacyStream(h, 'phone', member.address, seed, length);
      // Odd connections half-close right after the request: the END must survive migrations too.
      const halfClose = i % 2 === 1;
      if (halfClose) socket.end();
      const conn = await connectionTo(h, member.address);
      expect(conn.mtcp).toMatchObject({ member: member.id, members: ['s1', 's2', 's3'] });
      for (let k = 0; k < PER_CONNECTION && migrations < TOTAL; k++) {
        await sleep(Math.random() * 15);
        if (halfClose && got.bytes() > length * 0.9) break; // the connection ends with the stream
        const to = Math.random() < 0.5 ? pool.members[Math.floor(Math.random() * 3)]!.id : undefined;
        const now = await h.api('phone', 'GET', `/v1/connections/${conn.id}`);
        const current = now.json.mtcp?.member;
        const body = to !== undefined && to !== current ? { to } : {};
        const r = now.status === 200 ? await h.api('phone', 'POST', `/v1/connections/${conn.id}/migrate-server`, body) : now;
        if (halfClose && r.status !== 202) {
          // A half-closed connection ends with its stream (both ENDs through, all acknowledged):
          // then there is nothing left to migrate. It must have ended complete.
          await got.ended;
          expect(got.bytes(), JSON.stringify(r.json)).toBe(length);
          break;
        }
        expect(r.status, JSON.stringify(r.json)).toBe(202);
        expect(r.json).toMatchObject({ kind: 'server', connection: conn.id, trigger: 'demand', from: current, cid: conn.mtcp.cid });
        expect(r.json.id).toMatch(/^s[0-9a-f]{10}$/);
        const m = await migrationEnds(h, r.json.id);
        expect(m.state, JSON.stringify(m)).toBe('done');
        if ('to' in body) expect(m.to).toBe(body.to);
        expect(m.phases.done).toBeGreaterThanOrEqual(m.phases.requested);
        resumeMs.push(m.timings.resumeMs);
        migrations++;
      }
      await until(() => got.bytes() >= length, 15_000, `stream ${i}`);
      if (!halfClose) socket.end();
      await got.ended;
      expect(got.bytes(), `connection ${i}`).toBe(length);
      expect(got.hash(), `connection ${i}`).toBe(expectedStreamHash(seed, length));
    }
    const elapsed = Date.now() - started;
    resumeMs.sort((a, b) => a - b);
    console.log(`migrate-server: ${migrations} migrations over ${connections} connections in ${elapsed} ms, resume p50 ${resumeMs[Math.floor(resumeMs.length / 2)]} ms`);
    expect(migrations).toBe(TOTAL);
    expect(elapsed).toBeLessThan(60_000);
    const listed = (await h.api('phone', 'GET', '/v1/migrations')).json.migrations as any[];
    expect(listed.filter((m) => m.kind === 'server').length).toBe(Math.min(50, migrations));
    const metrics = await (await fetch(`${h.controlUrl}/metrics`)).text();
    expect(metrics).toContain(`tsmp_proxy_server_migrations_total{trigger="demand",outcome="done"} ${migrations}`);
    expect(metrics).toMatch(/tsmp_proxy_server_migration_seconds_count\{phase="resume"\} \d+/);
  }, 90_000);

  it('a device migration (phone → pc) and server migrations on the same connection: exact bytes', async () => {
    const pool = await makePool(3, 'memory');
    servers = await startPool(pool, { rate: 1_000_000 });
    h = await startProxy({ mtcp: mtcpFor(pool) });
    const length = 900_000;
    const address = pool.members[0]!.address;
    const phone = await legacyStream(h, 'phone', address, 'both', length);
    await until(() => phone.got.bytes() > 100_000, 10_000, 'phone data');
    const conn = await connectionTo(h, address);

    const s1 = await h.api('phone', 'POST', `/v1/connections/${conn.id}/migrate-server`, { to: 's2' });
    expect(s1.status).toBe(202);
    expect((await migrationEnds(h, s1.json.id)).state).toBe('done');

    const d = await h.api('phone', 'POST', `/v1/connections/${conn.id}/migrate`, { to: 'pc' });
    expect(d.status).toBe(202);
    const pc = await socksConnect(h.port, did('pc'), TOKENS.pc, `${d.json.ticket}.ticket.tsmp.invalid`, 1);
    const gotPc = collect(pc.socket);
    await until(async () => (await h!.api('pc', 'GET', `/v1/migrations/${d.json.id}`)).json.state === 'done', 10_000, 'device migration');
    await phone.got.ended; // the phone was drained and got a FIN

    const after = (await h.api('pc', 'GET', `/v1/connections/${conn.id}`)).json;
    expect(after.device).toBe(did('pc'));
    expect(after.mtcp.member).toBe('s2');
    const s2 = await h.api('pc', 'POST', `/v1/connections/${conn.id}/migrate-server`, { to: 's3' });
    expect(s2.status).toBe(202);
    expect((await migrationEnds(h, s2.json.id)).state).toBe('done');

    await until(() => phone.got.bytes() + gotPc.bytes() >= length, 15_000, 'the whole stream');
    pc.socket.end();
    await gotPc.ended;
    expect(phone.got.bytes() + gotPc.bytes()).toBe(length);
    expect(hashOf([...phone.got.chunks, ...gotPc.chunks])).toBe(expectedStreamHash('both', length));
    expect(phone.got.bytes()).toBeGreaterThan(100_000);
    expect(gotPc.bytes()).toBeGreaterThan(0);
    const kinds = ((await h.api('pc', 'GET', '/v1/migrations')).json.migrations as any[]).map((m) => m.kind).sort();
    expect(kinds).toEqual(['device', 'server', 'server']);
  }, 40_000);

  it('migrates by policy (--mtcp-policy-fraction) when the serving member degrades: record and exact bytes', async () => {
    const pool = await makePool(3, 'memory');
    // Every member's rate falls the longer it serves the connection (the paper's degrading servers).
    servers = await startPool(pool, { rateProfile: (ms) => profileRate({ peak: 2_000_000, holdMs: 300, fallMs: 800, floor: 0.05 }, ms), chunkBytes: 8192 });
    h = await startProxy({ mtcp: mtcpFor(pool, { policyFraction: 0.5 }) });
    const length = 3_000_000;
    const { socket, got } = await legacyStream(h, 'phone', pool.members[0]!.address, 'policy', length);
    await until(() => got.bytes() >= length, 20_000, 'the degrading stream');
    socket.end();
    await got.ended;
    expect(got.hash()).toBe(expectedStreamHash('policy', length));
    const records = ((await h.api('phone', 'GET', '/v1/migrations')).json.migrations as any[]).filter((m) => m.kind === 'server');
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) expect(r).toMatchObject({ trigger: 'policy', state: 'done' });
    expect(records[0].reason).toMatch(/throughput \d+% of max/);
    const metrics = await (await fetch(`${h.controlUrl}/metrics`)).text();
    expect(metrics).toContain(`tsmp_proxy_server_migrations_total{trigger="policy",outcome="done"} ${records.length}`);
  }, 30_000);

  it('refuses migrate-server on a plain connection (409) and on another user\'s or an unknown id (404)', async () => {
    const pool = await makePool(2, 'memory');
    servers = await startPool(pool, { rate: 200_000 });
    h = await startProxy({ mtcp: mtcpFor(pool) });
    const plain = await startStreamServer({ total: 2 ** 30, chunk: 4096, intervalMs: 5 });
    try {
      const p = await socksConnect(h.port, did('phone'), TOKENS.phone, '127.0.0.1', plain.port);
      const gotPlain = collect(p.socket);
      const m = await legacyStream(h, 'phone', pool.members[0]!.address, 'refusals', 100_000);
      const plainConn = await connectionTo(h, `127.0.0.1:${plain.port}`);
      expect(plainConn.mtcp).toBeNull();
      const mtcpConn = await connectionTo(h, pool.members[0]!.address);

      const notMtcp = await h.api('phone', 'POST', `/v1/connections/${plainConn.id}/migrate-server`, {});
      expect(notMtcp.status).toBe(409);
      expect(notMtcp.json.error.code).toBe('ERR_NOT_MTCP');
      expect(notMtcp.json.error.message).toMatch(/M-TCP pool/);

      for (const id of [mtcpConn.id, plainConn.id]) {
        const other = await h.api('mallory', 'POST', `/v1/connections/${id}/migrate-server`, {});
        expect(other.status).toBe(404);
        expect(other.json.error.code).toBe('ERR_CONNECTION_NOT_FOUND');
      }
      expect((await h.api('phone', 'POST', '/v1/connections/ffffffff/migrate-server', {})).status).toBe(404);
      const badMember = await h.api('phone', 'POST', `/v1/connections/${mtcpConn.id}/migrate-server`, { to: 's9' });
      expect(badMember.status).toBe(404);
      expect(badMember.json.error.code).toBe('ERR_MEMBER_NOT_FOUND');
      expect((await h.api('phone', 'POST', `/v1/connections/${mtcpConn.id}/migrate-server`, { to: 's1' })).json.error.code).toBe('ERR_SAME_MEMBER');
      expect((await h.api('phone', 'POST', `/v1/connections/${mtcpConn.id}/migrate-server`, { to: 42 })).status).toBe(400);

      // Mallory cannot read Bob's server migrations either.
      const ok = await h.api('phone', 'POST', `/v1/connections/${mtcpConn.id}/migrate-server`, {});
      expect(ok.status).toBe(202);
      expect((await h.api('mallory', 'GET', `/v1/migrations/${ok.json.id}`)).status).toBe(404);
      expect((await migrationEnds(h, ok.json.id)).state).toBe('done');
      m.socket.end();
      await m.got.ended;
      expect(m.got.hash()).toBe(expectedStreamHash('refusals', 100_000));
      expect(gotPlain.bytes()).toBeGreaterThan(0);
      p.socket.destroy();
    } finally {
      await plain.close();
    }
  }, 30_000);

  it('sends no M-TCP preamble to a plain server that is not a configured pool', async () => {
    const pool = await makePool(2, 'memory');
    servers = await startPool(pool);
    h = await startProxy({ mtcp: mtcpFor(pool) });
    const firstBytes: Buffer[] = [];
    const plain = createServer((s: Socket) => {
      s.on('data', (d: Buffer) => {
        firstBytes.push(d);
        s.write(d);
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const port = (plain.address() as AddressInfo).port;
      const { socket } = await socksConnect(h.port, did('phone'), TOKENS.phone, '127.0.0.1', port);
      const got = collect(socket);
      socket.write('STREAM plain 10\n');
      await until(() => got.bytes() >= 16, 5_000, 'echo');
      expect(Buffer.concat(firstBytes).toString('latin1')).toBe('STREAM plain 10\n');
      expect((await connectionTo(h, `127.0.0.1:${port}`)).mtcp).toBeNull();
      socket.destroy();
    } finally {
      await new Promise<void>((r) => plain.close(() => r()));
    }
  });

  it('maps an unreachable pool to the refused SOCKS5 reply', async () => {
    const pool = await makePool(2, 'memory'); // nobody listens on these addresses
    h = await startProxy({ mtcp: mtcpFor(pool) });
    const [host, port] = pool.members[0]!.address.split(':') as [string, string];
    await expect(socksConnect(h.port, did('phone'), TOKENS.phone, host, Number(port))).rejects.toMatchObject({ rep: 5 });
  });
});

describe('proxy ↔ M-TCP: SIGKILL of the serving member (member processes, eager push)', () => {
  const KILLS = Number(process.env.MTCP_PROXY_KILL_REPS ?? 5);
  const RATE = 2_000_000;
  let dir: string;
  let pool: PoolConfig;
  let poolFile: string;
  const members = new Map<string, MemberProcess>();
  let h: Harness | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsmp-mtcp-proxy-'));
    pool = await makePool(3, 'push');
    poolFile = join(dir, 'pool.json');
    writeFileSync(poolFile, JSON.stringify(pool));
    await Promise.all(pool.members.map(async (m) => members.set(m.id, await spawnMember(poolFile, m.id, RATE))));
    h = await startProxy({ mtcp: mtcpFor(pool, { silenceTimeoutMs: 2000 }) });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await Promise.all([...members.values()].map((m) => killMember(m)));
    rmSync(dir, { recursive: true, force: true });
    rmSync(await memberScript(), { force: true });
  });

  it(`delivers the exact stream to a legacy client after each of ${KILLS} kills`, async () => {
    let failureMigrations = 0;
    for (let rep = 0; rep < KILLS; rep++) {
      const first = pool.members[rep % pool.members.length]!;
      const length = 200_000 + Math.floor(Math.random() * 200_000);
      const seed = `kill-${rep}`;
      const { socket, got } = await legacyStream(h!, 'phone', first.address, seed, length);
      const conn = await connectionTo(h!, first.address);
      await sleep(Math.random() * (length / RATE) * 800);
      const serving = (await h!.api('phone', 'GET', `/v1/connections/${conn.id}`)).json.mtcp.member as string;
      const victim = members.get(serving)!;
      const before = got.bytes();
      await killMember(victim);
      await until(() => got.bytes() >= length, 15_000, `rep ${rep}: stream after the kill at byte ${before}`);
      socket.end();
      await got.ended;
      expect(got.bytes(), `rep ${rep}`).toBe(length);
      expect(got.hash(), `rep ${rep}: killed ${serving} at byte ${before}`).toBe(expectedStreamHash(seed, length));
      const records = ((await h!.api('phone', 'GET', '/v1/migrations')).json.migrations as any[]).filter((m) => m.connection === conn.id);
      for (const r of records) {
        expect(r).toMatchObject({ kind: 'server', trigger: 'failure', state: 'done', from: serving });
        expect(r.transfer.source).toBe('store');
      }
      if (before < length) failureMigrations += records.length;
      members.set(victim.id, await spawnMember(poolFile, victim.id, RATE));
    }
    // Kills that land after the last byte need no migration; most land mid-stream.
    expect(failureMigrations).toBeGreaterThanOrEqual(Math.ceil(KILLS / 2));
    const metrics = await (await fetch(`${h!.controlUrl}/metrics`)).text();
    expect(metrics).toMatch(/tsmp_proxy_server_migrations_total\{trigger="failure",outcome="done"\} [1-9]/);
  }, 120_000);
});

describe('proxy ↔ M-TCP with --workers 2 (the built CLI)', () => {
  let proxy: Awaited<ReturnType<typeof spawnProxy>> | undefined;
  let servers: Map<string, MtcpServer> | undefined;
  afterAll(async () => {
    await proxy?.stop();
    if (servers) await stopAll(servers.values());
  });

  it('migrate-server goes through the primary to the worker holding the connection', async () => {
    const pool = await makePool(3, 'push');
    servers = await startPool(pool, { rate: 1_000_000 });
    proxy = await spawnProxy(['--workers', '2', '--mtcp-pool', pool.members.map((m) => m.address).join(',')]);
    const h = { port: proxy.port, controlUrl: proxy.controlUrl, api: apiFor(proxy.controlUrl) } as unknown as Harness;
    const streams = [];
    for (let i = 0; i < 4; i++) streams.push({ seed: `cluster-${i}`, ...(await legacyStream(h, 'phone', pool.members[i % 3]!.address, `cluster-${i}`, 400_000)) });
    const list = (await h.api('phone', 'GET', '/v1/connections')).json.connections as any[];
    expect(list).toHaveLength(4);
    for (const c of list) {
      expect(c.mtcp).not.toBeNull();
      const r = await h.api('phone', 'POST', `/v1/connections/${c.id}/migrate-server`, {});
      expect(r.status, JSON.stringify(r.json)).toBe(202);
      const m = await migrationEnds(h, r.json.id);
      expect(m.state).toBe('done');
      expect(m.connection).toBe(c.id);
    }
    for (const s of streams) {
      await until(() => s.got.bytes() >= 400_000, 15_000, s.seed);
      s.socket.end();
      await s.got.ended;
      expect(s.got.hash()).toBe(expectedStreamHash(s.seed, 400_000));
    }
    const plain = (await h.api('phone', 'POST', '/v1/connections/0fffffff/migrate-server', {})).status;
    expect(plain).toBe(404);
    const metrics = await (await fetch(`${proxy.controlUrl}/metrics`)).text();
    expect(metrics).toContain('tsmp_proxy_server_migrations_total{trigger="demand",outcome="done"} 4');
  }, 90_000);
});

function apiFor(controlUrl: string): Harness['api'] {
  return async (device, method, path, body) => {
    if (device === 'mallory') throw new Error('not used');
    const res = await fetch(controlUrl + path, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${did(device)}:${TOKENS[device]}`).toString('base64')}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
}
