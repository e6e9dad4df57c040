import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, did, startProxy, until, type Harness } from '../support/proxy-harness.js';
import { socksConnect } from '../support/socks-client.js';
import { startStreamServer, type StreamServer } from '../support/stream-server.js';
import { TOKENS } from '../support/proxy-harness.js';

let harness: Harness | undefined;
let server: StreamServer | undefined;
afterEach(async () => {
  await harness?.close();
  await server?.close();
  harness = server = undefined;
});

const connectAs = (device: keyof typeof TOKENS, port: number) =>
  socksConnect(harness!.port, did(device), TOKENS[device], '127.0.0.1', port);

describe('migration between devices', () => {
  it('A then B receive exactly the server stream, split at the offset A acknowledged', async () => {
    harness = await startProxy();
    server = await startStreamServer({ total: 24 * 1024 * 1024, chunk: 64 * 1024, intervalMs: 2 });
    const a = await connectAs('phone', server.port);
    const got = collect(a.socket);
    await until(() => got.bytes() > 3 * 1024 * 1024, 20_000, 'phone to receive 3 MiB');

    const [conn] = (await harness.api('phone', 'GET', '/v1/connections')).json.connections;
    expect(conn.device).toBe(did('phone'));
    const started = await harness.api('phone', 'POST', `/v1/connections/${conn.id}/migrate`, { to: 'pc' });
    expect(started.status).toBe(202);
    expect(started.json.state).toBe('waiting');
    expect(started.json.ticket).toMatch(/^[0-9a-f]{32}$/);

    const b = await connectAs('pc', server.port);
    const gotB = collect(b.socket);
    await Promise.all([got.ended, gotB.ended, server.sessions[0]!.done]);

    const m = (await harness.api('pc', 'GET', `/v1/migrations/${started.json.id}`)).json;
    expect(m.state).toBe('done');
    expect(m.fromOffset).toBe(got.bytes());
    expect(got.bytes() + gotB.bytes()).toBe(24 * 1024 * 1024);
    const whole = createHash('sha256');
    for (const c of [...got.chunks, ...gotB.chunks]) whole.update(c);
    expect(whole.digest('hex')).toBe(server.sessions[0]!.hash());
    expect(m.phases.resumed).toBeGreaterThanOrEqual(m.phases.firstByte);
  });
});

describe('GET /v1/migrations/{id}?wait=MS (blocking query)', () => {
  it('answers when the migration ends, or with its current state when the wait runs out', async () => {
    harness = await startProxy();
    const total = 4 * 1024 * 1024;
    server = await startStreamServer({ total, chunk: 16 * 1024, intervalMs: 2 });
    const a = await connectAs('phone', server.port);
    const gotA = collect(a.socket);
    await until(() => gotA.bytes() > 256 * 1024, 10_000, 'phone to receive 256 KiB');
    const [conn] = (await harness.api('phone', 'GET', '/v1/connections')).json.connections;
    const m = (await harness.api('phone', 'POST', `/v1/connections/${conn.id}/migrate`, { to: 'pc' })).json;

    // Nobody attaches: the wait runs out and the answer is the state at that moment.
    let t0 = performance.now();
    const short = await harness.api('phone', 'GET', `/v1/migrations/${m.id}?wait=150`);
    expect(short.status).toBe(200);
    expect(short.json.state).toBe('waiting');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);

    // Bad waits are refused before anything waits; other users' ids are a 404 at once.
    expect((await harness.api('phone', 'GET', `/v1/migrations/${m.id}?wait=soon`)).status).toBe(400);
    expect((await harness.api('phone', 'GET', `/v1/migrations/${m.id}?wait=30001`)).status).toBe(400);
    t0 = performance.now();
    expect((await harness.api('mallory', 'GET', `/v1/migrations/${m.id}?wait=5000`)).status).toBe(404);
    expect(performance.now() - t0).toBeLessThan(1_000);

    // A long wait is answered as soon as the target has attached, with the end state.
    t0 = performance.now();
    const blocked = harness.api('pc', 'GET', `/v1/migrations/${m.id}?wait=20000`);
    await new Promise((r) => setTimeout(r, 100));
    const b = await connectAs('pc', server.port);
    const gotB = collect(b.socket);
    const done = await blocked;
    expect(done.status).toBe(200);
    expect(done.json.state).toBe('done');
    expect(performance.now() - t0).toBeLessThan(10_000);

    await Promise.all([gotA.ended, gotB.ended, server.sessions[0]!.done]);
    expect(done.json.fromOffset).toBe(gotA.bytes());
    expect(gotA.bytes() + gotB.bytes()).toBe(total);
    const whole = createHash('sha256');
    for (const c of [...gotA.chunks, ...gotB.chunks]) whole.update(c);
    expect(whole.digest('hex')).toBe(server.sessions[0]!.hash());
  });
});
