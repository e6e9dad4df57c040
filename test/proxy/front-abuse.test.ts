import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/common/errors.js';
import { createFrontHandler } from '../../src/proxy/front/front-server.js';
import { buildAuthRequest, buildGreeting, buildRequest } from '../../src/proxy/wire/socks5-builders.js';
import { BOB_PHONE, StubAuthenticator, TestClient, delay, startFront, type TestFront } from './front-harness.js';

const TIMEOUT_MS = 300;
let front: TestFront | undefined;
afterEach(async () => {
  await front?.close();
  front = undefined;
});

/** A full SOCKS5 handshake as one client would do it, resolving with the PendingConnect. */
async function socks5Handshake(f: TestFront): Promise<void> {
  const client = await TestClient.open(f.port);
  client.send(buildGreeting([2]));
  await client.read(2);
  client.send(buildAuthRequest(BOB_PHONE.did, BOB_PHONE.token));
  await client.read(2);
  client.send(buildRequest(1, { host: 'a.example', port: 1, addressType: 'domain' }));
  const pending = await f.nextPending();
  pending.accept({ address: '127.0.0.1', port: 1 });
  await client.read(10);
  await client.destroy();
}

describe('front under bad input', () => {
  it('closes at once on a first byte that is neither SOCKS5 nor a letter', async () => {
    front = await startFront({ handshakeTimeoutMs: 5000 });
    for (const first of [0x04, 0x16, 0x00, 0xff, 0x20, 0x30]) {
      const client = await TestClient.open(front.port);
      client.send(Buffer.concat([Buffer.from([first]), randomBytes(64)]));
      const { rest, afterMs } = await client.untilClosed(1000);
      expect(rest.length).toBe(0);
      expect(afterMs).toBeLessThan(1000);
      await client.destroy();
    }
    expect(front.handler.stats().failed['unknown-protocol']).toBe(6);
  });

  it('survives 200 connections of random bytes and still serves a proper client', async () => {
    front = await startFront({ handshakeTimeoutMs: TIMEOUT_MS });
    const clients = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const client = await TestClient.open(front!.port);
        client.send(randomBytes(1 + Math.floor(Math.random() * 2000)));
        return client;
      }),
    );
    await Promise.all(clients.map((c) => c.untilClosed(TIMEOUT_MS + 1500)));
    await Promise.all(clients.map((c) => c.destroy()));
    await socks5Handshake(front);
    const stats = front.handler.stats();
    expect(stats.pending).toBe(0);
    expect(stats.handedOver).toBe(1);
  });

  // [name, what the client sends, what the server answered before the deadline]
  const truncated: [string, Buffer, string][] = [
    ['silent', Buffer.alloc(0), ''],
    ['SOCKS5 greeting cut short', Buffer.from('0502', 'hex'), ''],
    [
      'SOCKS5 auth cut short',
      Buffer.concat([buildGreeting([2]), buildAuthRequest(BOB_PHONE.did, BOB_PHONE.token).subarray(0, 10)]),
      '0502',
    ],
    [
      'SOCKS5 request cut short',
      Buffer.concat([buildGreeting([2]), buildAuthRequest(BOB_PHONE.did, BOB_PHONE.token), Buffer.from('05010003', 'hex')]),
      '05020100',
    ],
    ['HTTP head without its blank line', Buffer.from('CONNECT a.example:1 HTTP/1.1\r\nHost: a\r\n'), ''],
  ];
  for (const [name, bytes, answered] of truncated) {
    it(`closes a ${name} handshake at the timeout`, async () => {
      front = await startFront({ handshakeTimeoutMs: TIMEOUT_MS });
      const client = await TestClient.open(front.port);
      const started = Date.now();
      if (bytes.length) client.send(bytes);
      const { rest } = await client.untilClosed(TIMEOUT_MS + 1000);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 500);
      if (name.startsWith('HTTP')) expect(rest.toString()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      else expect(rest.toString('hex')).toBe(answered);
      expect(front.handler.stats().failed.timeout).toBe(1);
      await client.destroy();
    });
  }

  it('cuts a slowloris client off at the deadline while serving another client meanwhile', async () => {
    front = await startFront({ handshakeTimeoutMs: 600 });
    const slow = await TestClient.open(front.port);
    const request = Buffer.from(`CONNECT a.example:1 HTTP/1.1\r\nX-Pad: ${'p'.repeat(100)}\r\n\r\n`);
    const started = Date.now();
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < request.length && !slow.socket.destroyed) slow.socket.write(request.subarray(sent, ++sent));
    }, 50);
    try {
      await delay(150);
      const served = Date.now();
      await socks5Handshake(front);
      expect(Date.now() - served).toBeLessThan(300);
      expect(front.handler.stats().pending).toBe(1);
      const { rest } = await slow.untilClosed(2000);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(580);
      expect(elapsed).toBeLessThan(1100);
      expect(sent).toBeLessThan(request.length);
      expect(rest.toString()).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(drip);
      await slow.destroy();
    }
  });

  it('closes a SOCKS5 client whose handshake overflows its buffer bound', async () => {
    front = await startFront({ handshakeTimeoutMs: 2000, maxSocks5BufferBytes: 1024 });
    front.authenticator.delayMs = 200;
    const client = await TestClient.open(front.port);
    client.send(buildGreeting([2]));
    await client.read(2);
    // While the authenticator is slow the socket is paused, so only one read's worth is buffered;
    // the bound is checked on that read.
    client.send(Buffer.concat([buildAuthRequest(BOB_PHONE.did, BOB_PHONE.token), randomBytes(4096)]));
    await client.untilClosed(2000);
    expect(front.handler.stats().failed.oversized).toBe(1);
    await client.destroy();
  });

  it('refuses connections past maxPendingHandshakes and takes new ones once room frees up', async () => {
    front = await startFront({ handshakeTimeoutMs: 5000, maxPendingHandshakes: 2 });
    const idle = [await TestClient.open(front.port), await TestClient.open(front.port)];
    await delay(30);
    const extra = await TestClient.open(front.port);
    const { afterMs } = await extra.untilClosed(1000);
    expect(afterMs).toBeLessThan(500);
    expect(front.handler.stats().failed.overload).toBe(1);
    await idle[0]!.destroy();
    await delay(30);
    await socks5Handshake(front);
    await idle[1]!.destroy();
    await extra.destroy();
  });
});

describe('front options', () => {
  const components = { authenticator: new StubAuthenticator(), onConnect: () => {} };
  it('are validated when the handler is built', () => {
    expect(() => createFrontHandler(components, { handshakeTimeoutMs: 0 })).toThrow(ConfigError);
    expect(() => createFrontHandler(components, { maxHttpHeaderBytes: 10 })).toThrow(ConfigError);
    expect(() => createFrontHandler(components, { closeLingerMs: -1 })).toThrow(ConfigError);
    expect(() => createFrontHandler(components, { nope: 1 } as never)).toThrow(ConfigError);
    expect(() => createFrontHandler(components, { timeoutMs: 5 } as never)).toThrow(/"timeoutMs" is called "handshakeTimeoutMs"/);
    expect(createFrontHandler(components).stats()).toMatchObject({ pending: 0, handedOver: 0 });
  });
});
