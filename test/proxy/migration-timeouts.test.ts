import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, did, startProxy, TOKENS, until, type Harness } from '../support/proxy-harness.js';
import { socksConnect } from '../support/socks-client.js';
import { expectedHash, startStreamServer, type StreamServer } from '../support/stream-server.js';

let harness: Harness | undefined;
let server: StreamServer | undefined;
afterEach(async () => {
  await harness?.close();
  await server?.close();
  harness = server = undefined;
});

describe('migrations that cannot complete', () => {
  it('rolls back to the old device when the target never connects, and the stream stays whole', async () => {
    harness = await startProxy({ migrationTimeoutMs: 300 });
    const total = 4 * 1024 * 1024;
    server = await startStreamServer({ total, chunk: 16 * 1024, intervalMs: 2 });
    const a = await socksConnect(harness.port, did('phone'), TOKENS.phone, '127.0.0.1', server.port);
    const got = collect(a.socket);
    await until(() => got.bytes() > 256 * 1024, 10_000, 'data');
    const [conn] = (await harness.api('phone', 'GET', '/v1/connections')).json.connections;
    const m = (await harness.api('phone', 'POST', `/v1/connections/${conn.id}/migrate`, { to: 'pc' })).json;
    const paused = got.bytes();
    await until(async () => (await harness!.api('phone', 'GET', `/v1/migrations/${m.id}`)).json.state === 'rolled-back', 5_000, 'rollback');
    await got.ended;
    expect(got.bytes()).toBeGreaterThan(paused);
    expect(got.hash()).toBe(expectedHash(0, total));
    // The expired ticket no longer attaches anything.
    await expect(socksConnect(harness.port, did('pc'), TOKENS.pc, `${m.ticket}.ticket.tsmp.invalid`, 1)).rejects.toMatchObject({ rep: 2 });
  });

  it('ends a detached connection cleanly after the detach hold: the server gets a FIN, never a reset', async () => {
    harness = await startProxy({ detachHoldMs: 300 });
    let serverSide: Socket | undefined;
    const events: string[] = [];
    const srv = createServer({ allowHalfOpen: true }, (s) => {
      serverSide = s;
      s.on('end', () => events.push('fin'));
      s.on('error', (e) => events.push(`error:${(e as NodeJS.ErrnoException).code}`));
      s.on('close', () => events.push('close'));
      s.write('hello');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    const a = await socksConnect(harness.port, did('phone'), TOKENS.phone, '127.0.0.1', port);
    await until(() => serverSide !== undefined, 5_000, 'server accept');
    a.socket.resetAndDestroy();
    await until(async () => (await harness!.api('phone', 'GET', '/v1/connections')).json.connections[0]?.state === 'detached', 5_000, 'detached');
    await until(() => events.includes('fin'), 5_000, 'server FIN');
    serverSide!.end();
    await until(() => events.includes('close'), 5_000, 'server close');
    expect(events.filter((e) => e.startsWith('error'))).toEqual([]);
    expect((await harness.api('phone', 'GET', '/v1/connections')).json.connections).toEqual([]);
    await new Promise<void>((r) => srv.close(() => r()));
  });

  it('a detached connection resumes on the device that lost it, within the hold', async () => {
    harness = await startProxy({ detachHoldMs: 10_000 });
    const total = 2 * 1024 * 1024;
    server = await startStreamServer({ total, chunk: 16 * 1024, intervalMs: 2 });
    const a = await socksConnect(harness.port, did('phone'), TOKENS.phone, '127.0.0.1', server.port);
    const got = collect(a.socket);
    await until(() => got.bytes() > 128 * 1024, 10_000, 'data');
    a.socket.resetAndDestroy();
    await until(async () => (await harness!.api('phone', 'GET', '/v1/connections')).json.connections[0]?.state === 'detached', 5_000, 'detached');
    const [conn] = (await harness.api('phone', 'GET', '/v1/connections')).json.connections;
    const m = (await harness.api('phone', 'POST', `/v1/connections/${conn.id}/migrate`, { to: 'phone' })).json;
    const again = await socksConnect(harness.port, did('phone'), TOKENS.phone, `${m.ticket}.ticket.tsmp.invalid`, 9);
    const rest = collect(again.socket);
    await rest.ended;
    const done = (await harness.api('phone', 'GET', `/v1/migrations/${m.id}`)).json;
    expect(done.state).toBe('done');
    expect(rest.hash()).toBe(expectedHash(done.fromOffset, total));
  });
});
