import { afterEach, describe, expect, it } from 'vitest';
import { collect, did, TOKENS, until } from '../support/proxy-harness.js';
import { spawnProxy } from '../support/proxy-process.js';
import { socksConnect } from '../support/socks-client.js';
import { startStreamServer, type StreamServer } from '../support/stream-server.js';

let proxy: Awaited<ReturnType<typeof spawnProxy>> | undefined;
const servers: StreamServer[] = [];
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
  for (const s of servers.splice(0)) await s.close();
});

async function api(device: keyof typeof TOKENS, method: string, path: string, body?: unknown) {
  const res = await fetch(proxy!.controlUrl + path, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${did(device)}:${TOKENS[device]}`).toString('base64')}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as any };
}

describe('proxy with --workers 2', () => {
  it('migrations stay exact when the target lands on another worker than the holder', async () => {
    proxy = await spawnProxy(['--workers', '2']);
    const connections = [];
    for (let i = 0; i < 12; i++) {
      const server = await startStreamServer({ total: 2 ** 40, chunk: 8 * 1024, intervalMs: 2 });
      servers.push(server);
      const a = await socksConnect(proxy.port, did('phone'), TOKENS.phone, '127.0.0.1', server.port);
      connections.push({ server, a, gotA: collect(a.socket) });
    }
    const listed = (await api('phone', 'GET', '/v1/connections')).json.connections;
    expect(listed).toHaveLength(12);
    // Both workers hold connections: ids start with the worker's index.
    expect(new Set(listed.map((c: { id: string }) => c.id[0])).size).toBe(2);
    for (const [i, c] of connections.entries()) {
      await until(() => c.gotA.bytes() > 0, 10_000, 'data');
      const conn = listed.find((l: { destination: string }) => l.destination === `127.0.0.1:${c.server.port}`);
      const m = await api('phone', 'POST', `/v1/connections/${conn.id}/migrate`, { to: 'pc' });
      expect(m.status).toBe(202);
      const host = i % 2 === 0 ? `${m.json.ticket}.ticket.tsmp.invalid` : '127.0.0.1';
      // The first two (attach by ticket, then by destination) are awaited with a blocking query,
      // asked before the target connects: the primary forwards it to the worker holding the
      // migration, which answers when it ends.
      const waited = i < 2 ? api('pc', 'GET', `/v1/migrations/${m.json.id}?wait=10000`) : undefined;
      const b = await socksConnect(proxy.port, did('pc'), TOKENS.pc, host, c.server.port);
      const gotB = collect(b.socket);
      if (waited) expect((await waited).json.state).toBe('done');
      await until(async () => (await api('pc', 'GET', `/v1/migrations/${m.json.id}`)).json.state === 'done', 10_000, `migration ${i}`);
      c.server.sessions[0]!.finish();
      await Promise.all([c.gotA.ended, gotB.ended]);
      const whole = Buffer.concat([...c.gotA.chunks, ...gotB.chunks]);
      expect(whole.length).toBe(c.server.sessions[0]!.sent);
      const { createHash } = await import('node:crypto');
      expect(createHash('sha256').update(whole).digest('hex')).toBe(c.server.sessions[0]!.hash());
    }
    const metrics = await (await fetch(`${proxy.controlUrl}/metrics`)).text();
    expect(metrics).toMatch(/tsmp_proxy_migrations_total\{outcome="done"\} 12/);
    const handoffs = Number(/tsmp_proxy_worker_handoffs_total (\d+)/.exec(metrics)?.[1]);
    // The kernel picks the worker for each target connection; over 12 some land elsewhere.
    expect(handoffs).toBeGreaterThan(0);
  }, 120_000);
});
