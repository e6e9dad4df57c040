import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, did, startProxy, TOKENS, until, type Harness } from '../support/proxy-harness.js';
import { socksConnect } from '../support/socks-client.js';
import { startStreamServer, type StreamServer } from '../support/stream-server.js';

let harness: Harness | undefined;
let server: StreamServer | undefined;
afterEach(async () => {
  await harness?.close();
  await server?.close();
  harness = server = undefined;
});

type Device = keyof typeof TOKENS;
const DEVICES: Device[] = ['phone', 'pc', 'tablet'];

/** A deterministic pseudo-random sequence, so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/**
 * Opens one connection and migrates it `count` times at random moments, alternating attach by
 * destination and by ticket. Resolves with the hash of what all devices received, in order.
 */
async function migrateRepeatedly(h: Harness, port: number, count: number, order: Device[] | null, random: () => number, finish?: () => void) {
  let holder: Device = order?.[0] ?? 'phone';
  const first = await socksConnect(h.port, did(holder), TOKENS[holder], '127.0.0.1', port);
  const segments = [collect(first.socket)];
  await until(() => segments[0]!.bytes() > 0, 10_000, 'first bytes');
  const [conn] = (await h.api(holder, 'GET', '/v1/connections')).json.connections.filter(
    (c: { deviceAddress: string }) => c.deviceAddress === `127.0.0.1:${first.socket.localPort}`,
  );
  for (let i = 1; i <= count; i++) {
    await new Promise((r) => setTimeout(r, 1 + Math.floor(random() * 15)));
    const candidates = DEVICES.filter((d) => d !== holder);
    const target: Device = order?.[i % order.length] ?? candidates[Math.floor(random() * candidates.length)]!;
    const m = await h.api(holder, 'POST', `/v1/connections/${conn.id}/migrate`, { to: target });
    expect(m.status, JSON.stringify(m.json)).toBe(202);
    const host = i % 2 === 0 ? `${m.json.ticket}.ticket.tsmp.invalid` : '127.0.0.1';
    const next = await socksConnect(h.port, did(target), TOKENS[target], host, port);
    segments.push(collect(next.socket));
    holder = target;
    await until(async () => (await h.api(holder, 'GET', `/v1/migrations/${m.json.id}`)).json.state === 'done', 10_000, 'done');
    if (process.env.TSMP_TEST_TRACE) console.log(JSON.stringify((await h.api(holder, 'GET', `/v1/migrations/${m.json.id}`)).json.timings));
  }
  finish?.();
  await Promise.all(segments.map((s) => s.ended));
  const whole = createHash('sha256');
  let bytes = 0;
  for (const s of segments) {
    for (const c of s.chunks) whole.update(c);
    bytes += s.bytes();
  }
  return { hash: whole.digest('hex'), bytes, connId: conn.id as string };
}

describe('repeated migrations', () => {
  it('A→B→A→C keeps the stream whole', async () => {
    harness = await startProxy();
    const total = 4 * 1024 * 1024;
    server = await startStreamServer({ total, chunk: 32 * 1024, intervalMs: 2 });
    const r = await migrateRepeatedly(harness, server.port, 3, ['phone', 'pc', 'phone', 'tablet'], rng(1));
    expect(r.bytes).toBe(total);
    expect(r.hash).toBe(server.sessions[0]!.hash());
  });

  it('200 migrations at random moments on one connection', async () => {
    harness = await startProxy();
    server = await startStreamServer({ total: 2 ** 40, chunk: 16 * 1024, intervalMs: 1 });
    const r = await migrateRepeatedly(harness, server.port, 200, null, rng(42), () => server!.sessions[0]!.finish());
    expect(r.bytes).toBe(server.sessions[0]!.sent);
    expect(r.hash).toBe(server.sessions[0]!.hash());
    const counts = (await (await fetch(`${harness.controlUrl}/metrics`)).text()).match(/tsmp_proxy_migrations_total\{outcome="done"\} (\d+)/);
    expect(Number(counts?.[1])).toBe(200);
  }, 120_000);

  it('200 migrations spread over 10 concurrent connections', async () => {
    harness = await startProxy();
    const servers = await Promise.all(Array.from({ length: 10 }, () => startStreamServer({ total: 2 ** 40, chunk: 8 * 1024, intervalMs: 2 })));
    try {
      const results = await Promise.all(
        servers.map((srv, i) => migrateRepeatedly(harness!, srv.port, 20, null, rng(100 + i), () => srv.sessions[0]!.finish())),
      );
      results.forEach((r, i) => {
        expect(r.bytes).toBe(servers[i]!.sessions[0]!.sent);
        expect(r.hash).toBe(servers[i]!.sessions[0]!.hash());
      });
    } finally {
      await Promise.all(servers.map((srv) => srv.close()));
    }
  }, 120_000);
});
