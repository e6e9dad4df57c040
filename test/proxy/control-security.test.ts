import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collect, did, MALLORY, startProxy, TOKENS, until, type Harness } from '../support/proxy-harness.js';
import { socksConnect } from '../support/socks-client.js';
import { startStreamServer, type StreamServer } from '../support/stream-server.js';

let harness: Harness;
let server: StreamServer;
let connId: string;
beforeEach(async () => {
  harness = await startProxy({ migrationTimeoutMs: 2_000 });
  server = await startStreamServer({ total: 2 ** 40, chunk: 4096, intervalMs: 5 });
  const a = await socksConnect(harness.port, did('phone'), TOKENS.phone, '127.0.0.1', server.port);
  collect(a.socket);
  await until(async () => (await harness.api('phone', 'GET', '/v1/connections')).json.connections.length === 1, 5_000, 'connection');
  connId = (await harness.api('phone', 'GET', '/v1/connections')).json.connections[0].id;
});
afterEach(async () => {
  await harness.close();
  await server.close();
});

const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });

describe('control API security', () => {
  it('refuses requests without valid device credentials', async () => {
    expect((await fetch(`${harness.controlUrl}/v1/connections`)).status).toBe(401);
    const wrong = await fetch(`${harness.controlUrl}/v1/connections`, { headers: basic(did('phone'), 'nope') });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('ERR_UNAUTHORIZED');
    expect(wrong.headers.get('www-authenticate')).toContain('Basic');
  });

  it('another user sees nothing of bob, and cannot migrate, read or close his connection', async () => {
    expect((await harness.api('mallory', 'GET', '/v1/connections')).json.connections).toEqual([]);
    expect((await harness.api('mallory', 'GET', `/v1/connections/${connId}`)).status).toBe(404);
    expect((await harness.api('mallory', 'POST', `/v1/connections/${connId}/migrate`, { to: 'laptop' })).status).toBe(404);
    expect((await harness.api('mallory', 'DELETE', `/v1/connections/${connId}`)).status).toBe(404);
    const m = await harness.api('phone', 'POST', `/v1/connections/${connId}/migrate`, { to: 'pc' });
    expect((await harness.api('mallory', 'GET', `/v1/migrations/${m.json.id}`)).status).toBe(404);
    expect((await harness.api('mallory', 'GET', '/v1/migrations')).json.migrations).toEqual([]);
  });

  it('a connection moves only to a device of the same user', async () => {
    const r = await harness.api('phone', 'POST', `/v1/connections/${connId}/migrate`, { to: MALLORY.did });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('ERR_DEVICE_NOT_FOUND');
    expect((await harness.api('phone', 'POST', `/v1/connections/${connId}/migrate`, { to: 'toaster' })).status).toBe(404);
  });

  it('rejects malformed and oversized bodies', async () => {
    expect((await harness.api('phone', 'POST', `/v1/connections/${connId}/migrate`, { too: 'pc' })).status).toBe(400);
    const big = await harness.api('phone', 'POST', `/v1/connections/${connId}/migrate`, { to: 'pc', snapshot: 'x'.repeat(100_000) });
    expect(big.status).toBe(413);
  });

  it('a ticket works once, only for its target device', async () => {
    const m = (await harness.api('phone', 'POST', `/v1/connections/${connId}/migrate`, { to: 'pc' })).json;
    const host = `${m.ticket}.ticket.tsmp.invalid`;
    // Another device of the same user, and another user's device: refused (REP 0x02, not allowed).
    await expect(socksConnect(harness.port, did('tablet'), TOKENS.tablet, host, 1)).rejects.toMatchObject({ rep: 2 });
    await expect(socksConnect(harness.port, MALLORY.did, MALLORY.token, host, 1)).rejects.toMatchObject({ rep: 2 });
    await expect(socksConnect(harness.port, did('pc'), TOKENS.pc, `${'0'.repeat(32)}.ticket.tsmp.invalid`, 1)).rejects.toMatchObject({ rep: 2 });
    const b = await socksConnect(harness.port, did('pc'), TOKENS.pc, host, 1);
    collect(b.socket);
    await until(async () => (await harness.api('pc', 'GET', `/v1/migrations/${m.id}`)).json.state === 'done', 5_000, 'done');
    await expect(socksConnect(harness.port, did('pc'), TOKENS.pc, host, 1)).rejects.toMatchObject({ rep: 2 });
  });

  it('a ticket expires with its migration', async () => {
    const m = (await harness.api('phone', 'POST', `/v1/connections/${connId}/migrate`, { to: 'pc' })).json;
    await until(async () => (await harness.api('pc', 'GET', `/v1/migrations/${m.id}`)).json.state === 'rolled-back', 5_000, 'rollback');
    await expect(socksConnect(harness.port, did('pc'), TOKENS.pc, `${m.ticket}.ticket.tsmp.invalid`, 1)).rejects.toMatchObject({ rep: 2 });
  });

  it('a device of another user connecting to the same destination is not attached to bob’s migration', async () => {
    const m = (await harness.api('phone', 'POST', `/v1/connections/${connId}/migrate`, { to: 'pc' })).json;
    const other = await socksConnect(harness.port, MALLORY.did, MALLORY.token, '127.0.0.1', server.port);
    other.socket.destroy();
    expect((await harness.api('pc', 'GET', `/v1/migrations/${m.id}`)).json.state).toBe('waiting');
    expect((await harness.api('mallory', 'GET', '/v1/connections')).json.connections.every((c: { id: string }) => c.id !== connId)).toBe(true);
  });

  it('serves Prometheus metrics', async () => {
    const text = await (await fetch(`${harness.controlUrl}/metrics`)).text();
    expect(text).toMatch(/tsmp_proxy_connections\{state="relaying"\} 1/);
    expect(text).toContain('tsmp_proxy_bytes_total{direction="down"}');
  });
});
