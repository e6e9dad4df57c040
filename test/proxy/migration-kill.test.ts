import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

const CLIENT = fileURLToPath(new URL('../support/reading-client.mjs', import.meta.url));

describe('device killed mid-stream', () => {
  it('B gets exactly the suffix that starts where A’s TCP acknowledged', async () => {
    harness = await startProxy();
    const total = 8 * 1024 * 1024;
    server = await startStreamServer({ total, chunk: 32 * 1024, intervalMs: 2 });
    const child = spawn(process.execPath, [CLIENT, String(harness.port), did('phone'), TOKENS.phone, '127.0.0.1', String(server.port)]);
    let lastRead = 0;
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      for (const line of text.split('\n')) if (/^\d+$/.test(line)) lastRead = Number(line);
    });
    await until(() => lastRead > 1024 * 1024, 20_000, 'the child to read 1 MiB');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    await until(async () => { const c = (await harness!.api('phone', 'GET', '/v1/connections')).json.connections; return c[0]?.state === 'detached'; }, 5_000, 'detach');
    const [conn] = (await harness.api('pc', 'GET', '/v1/connections')).json.connections;
    expect(conn.device).toBeNull();
    const m = await harness.api('pc', 'POST', `/v1/connections/${conn.id}/migrate`, { to: did('pc') });
    expect(m.status).toBe(202);

    const b = await socksConnect(harness.port, did('pc'), TOKENS.pc, '127.0.0.1', server.port);
    const got = collect(b.socket);
    await got.ended;
    const done = (await harness.api('pc', 'GET', `/v1/migrations/${m.json.id}`)).json;
    expect(done.state).toBe('done');
    // The kernel's acknowledged count can only be at or past what the application had read.
    expect(done.fromOffset).toBeGreaterThanOrEqual(lastRead);
    expect(got.bytes()).toBe(total - done.fromOffset);
    expect(got.hash()).toBe(expectedHash(done.fromOffset, total));
    expect(server.sessions[0]!.hash()).toBe(expectedHash(0, total));
  });
});
