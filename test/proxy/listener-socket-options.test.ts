import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { applyDeviceSocketOptions, setOnListener } from '../../src/proxy/front/listener-socket-options.js';
import { loadLibc } from '../../src/proxy/kernel/libc.js';
import { fdOf, setUserTimeout } from '../../src/proxy/kernel/tcp-info.js';
import { did, startProxy, TOKENS, until, type Harness } from '../support/proxy-harness.js';
import { socksConnect } from '../support/socks-client.js';

/** The kernel's view of a socket's keepalive and user-timeout options (Linux). */
function optionsOf(socket: Socket): Record<string, number> {
  const fd = fdOf(socket);
  const get = (level: number, name: number): number => {
    const b = Buffer.alloc(4);
    const len = [4];
    if (loadLibc().getsockopt(fd, level, name, b, len) !== 0) throw new Error(`getsockopt(${level}, ${name}) failed`);
    return b.readInt32LE(0);
  };
  return { keepalive: get(1, 9), idle: get(6, 4), interval: get(6, 5), probes: get(6, 6), userTimeout: get(6, 18) };
}

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A server whose accepted sockets are handed to `onSocket`; resolves with it and its port. */
async function listen(onSocket: (s: Socket) => void, allowHalfOpen = false): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen }, onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((r) => server.close(r)));
  return { server, port: (server.address() as AddressInfo).port };
}

/** The options Node's `setKeepAlive(true, ms)` plus `setUserTimeout(2 * ms)` give an accepted socket. */
async function referenceOptions(keepaliveMs: number): Promise<Record<string, number>> {
  let seen: Record<string, number> | undefined;
  const { port } = await listen((s) => {
    s.setKeepAlive(true, keepaliveMs);
    setUserTimeout(s, 2 * keepaliveMs);
    seen = optionsOf(s);
    s.destroy();
  });
  const c = (await import('node:net')).connect(port, '127.0.0.1');
  c.on('error', () => {});
  await until(() => seen !== undefined, 5_000, 'the reference socket');
  c.destroy();
  return seen!;
}

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe.skipIf(process.platform !== 'linux')('device socket options set once on the listening socket', () => {
  it('every accepted device socket inherits exactly what setKeepAlive and setUserTimeout would set, and the tunnel carries bytes exactly', async () => {
    const keepaliveMs = 7_000;
    const expected = await referenceOptions(keepaliveMs);
    expect(expected).toMatchObject({ keepalive: 1, idle: 7, userTimeout: 14_000 });

    const echo = await listen((s) => s.pipe(s), true);
    harness = await startProxy({ keepaliveMs });
    // Past the start-up window in which the proxy still sets them one by one.
    await new Promise((r) => setImmediate(() => setImmediate(r)));
    expect((harness.proxy as unknown as { listenerCarriesOptions: boolean }).listenerCarriesOptions).toBe(true);

    const { socket } = await socksConnect(harness.port, did('phone'), TOKENS.phone, '127.0.0.1', echo.port);
    closers.push(() => socket.destroy());
    const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
    const got: Buffer[] = [];
    socket.on('data', (d: Buffer) => got.push(d));
    socket.resume();
    socket.write(payload);
    await until(() => Buffer.concat(got).length >= payload.length, 5_000, 'the echo');
    expect(Buffer.concat(got).equals(payload)).toBe(true);

    const [conn] = [...harness.proxy.connections.all()];
    expect(conn?.device).toBeTruthy();
    expect(optionsOf(conn!.device!.socket)).toEqual(expected);
  });

  it('the per-socket fallback sets the same values, also below one second of keepalive', async () => {
    for (const keepaliveMs of [30_000, 500]) {
      const expected = await referenceOptions(keepaliveMs);
      let viaListener: Record<string, number> | undefined;
      let viaSocket: Record<string, number> | undefined;
      const a = await listen((s) => {
        viaListener = optionsOf(s);
        s.destroy();
      });
      expect(setOnListener(a.server, { keepaliveMs, userTimeoutMs: 2 * keepaliveMs })).toBe(true);
      const b = await listen((s) => {
        applyDeviceSocketOptions(s, { keepaliveMs, userTimeoutMs: 2 * keepaliveMs });
        viaSocket = optionsOf(s);
        s.destroy();
      });
      const net = await import('node:net');
      for (const port of [a.port, b.port]) net.connect(port, '127.0.0.1').on('error', () => {});
      await until(() => viaListener !== undefined && viaSocket !== undefined, 5_000, 'both sockets');
      expect(viaListener).toEqual(expected);
      expect(viaSocket).toEqual(expected);
    }
  });

  it('a server without a handle (not listening) is refused, so the caller falls back', () => {
    expect(setOnListener(createServer(), { keepaliveMs: 1_000, userTimeoutMs: 2_000 })).toBe(false);
  });
});
