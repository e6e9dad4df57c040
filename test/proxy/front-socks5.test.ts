import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectFailure, Destination } from '../../src/proxy/front/types.js';
import { CONNECT_FAILURES, socks5ReplyFor } from '../../src/proxy/wire/reply-codes.js';
import { buildAuthRequest, buildGreeting, buildReply, buildRequest } from '../../src/proxy/wire/socks5-builders.js';
import { Socks5Command, Socks5Method } from '../../src/proxy/wire/socks5-constants.js';
import { BOB_PHONE, TestClient, startFront, type TestFront } from './front-harness.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const hex = (b: Buffer): string => b.toString('hex');

let front: TestFront;
beforeEach(async () => {
  front = await startFront({ handshakeTimeoutMs: 2000 });
});
afterEach(async () => {
  await front.close();
});

/** Greeting and authentication, step by step, checking each server answer. */
async function authenticated(credentials = BOB_PHONE): Promise<TestClient> {
  const client = await TestClient.open(front.port);
  client.send(buildGreeting([Socks5Method.NO_AUTH, Socks5Method.USERNAME_PASSWORD]));
  expect(hex(await client.read(2))).toBe('0502');
  client.send(buildAuthRequest(credentials.did, credentials.token));
  expect(hex(await client.read(2))).toBe('0100');
  return client;
}

describe('SOCKS5 front: CONNECT', () => {
  const destinations: Destination[] = [
    { host: '127.0.0.1', port: 8080, addressType: 'ipv4' },
    { host: '2001:db8::42', port: 443, addressType: 'ipv6' },
    { host: 'files.example.org', port: 21, addressType: 'domain' },
  ];
  for (const destination of destinations) {
    it(`hands over a ${destination.addressType} CONNECT with its pipelined head, then relays bytes exactly`, async () => {
      const client = await authenticated();
      const head = randomBytes(300);
      client.send(Buffer.concat([buildRequest(Socks5Command.CONNECT, destination), head]));
      const pending = await front.nextPending();

      expect(pending.protocol).toBe('socks5');
      expect(pending.destination).toEqual(destination);
      expect(pending.identity).toEqual({ uid: 'bob@example.org', device: 'phone', did: BOB_PHONE.did });
      expect(hex(pending.head)).toBe(hex(head));
      // Handed over clean: paused, nothing of the front's attached but the error guard.
      expect(pending.socket.isPaused()).toBe(true);
      const fresh = new Socket();
      for (const event of ['data', 'end', 'close', 'readable', 'timeout', 'drain']) {
        expect(pending.socket.listenerCount(event)).toBe(fresh.listenerCount(event));
      }
      expect(pending.socket.listenerCount('error')).toBe(1);
      expect(pending.preambleBytes()).toBe(4);

      pending.accept({ address: '127.0.0.1', port: 40000 });
      expect(hex(await client.read(10))).toBe(hex(buildReply(0, { address: '127.0.0.1', port: 40000 })));
      expect(pending.preambleBytes()).toBe(14);
      expect(pending.socket.bytesWritten).toBe(14);
      expect(() => pending.reject('general')).toThrow(expect.objectContaining({ code: 'ERR_FRONT_ALREADY_ANSWERED' }));

      // The proxy's side of the tunnel: everything after the request, head first.
      const upstream = randomBytes(512 * 1024);
      const received: Buffer[] = [pending.head];
      pending.socket.on('data', (c: Buffer) => received.push(c));
      pending.socket.resume();
      client.socket.end(upstream);
      await once(pending.socket, 'end');
      expect(sha(Buffer.concat(received))).toBe(sha(Buffer.concat([head, upstream])));
      await client.destroy();
    });
  }

  it('serves an optimistic client that sends greeting, auth, request and payload in one write', async () => {
    const client = await TestClient.open(front.port);
    const destination: Destination = { host: '10.0.0.1', port: 22, addressType: 'ipv4' };
    client.send(
      Buffer.concat([
        buildGreeting([Socks5Method.USERNAME_PASSWORD]),
        buildAuthRequest(BOB_PHONE.did, BOB_PHONE.token),
        buildRequest(Socks5Command.CONNECT, destination),
        Buffer.from('SSH-2.0-test\r\n'),
      ]),
    );
    const pending = await front.nextPending();
    expect(pending.destination).toEqual(destination);
    expect(pending.head.toString()).toBe('SSH-2.0-test\r\n');
    expect(hex(await client.read(4))).toBe('05020100');
    await client.destroy();
  });

  it('shows a FIN sent right behind the request as readableEnded', async () => {
    const client = await authenticated();
    client.socket.end(buildRequest(Socks5Command.CONNECT, { host: 'a.example', port: 1, addressType: 'domain' }));
    const pending = await front.nextPending();
    await new Promise((r) => setTimeout(r, 50));
    expect(pending.socket.readableEnded).toBe(true);
    pending.accept({ address: '0.0.0.0', port: 0 });
    expect(hex(await client.read(10))).toBe('05000001000000000000');
    await client.destroy();
  });

  it('still hands over when auth, request and FIN arrive while authenticating', async () => {
    front.authenticator.delayMs = 100;
    const client = await TestClient.open(front.port);
    client.send(buildGreeting([Socks5Method.USERNAME_PASSWORD]));
    expect(hex(await client.read(2))).toBe('0502');
    client.socket.end(
      Buffer.concat([
        buildAuthRequest(BOB_PHONE.did, BOB_PHONE.token),
        buildRequest(Socks5Command.CONNECT, { host: 'a.example', port: 1, addressType: 'domain' }),
        Buffer.from('tail'),
      ]),
    );
    const pending = await front.nextPending();
    expect(pending.head.toString()).toBe('tail');
    expect(pending.socket.readableEnded).toBe(true);
    await client.destroy();
  });

  it('closes a client that sends FIN before its request is complete', async () => {
    const client = await authenticated();
    client.socket.end(Buffer.from('050100', 'hex'));
    await client.untilClosed();
    await new Promise((r) => setTimeout(r, 20));
    expect(front.handler.stats()).toMatchObject({ pending: 0, handedOver: 0, failed: { 'closed-early': 1 } });
    await client.destroy();
  });
});

describe('SOCKS5 front: refusals', () => {
  it('answers wrong credentials with status 0x01 and closes', async () => {
    for (const creds of [
      { did: BOB_PHONE.did, token: 'wrong' },
      { did: 'nobody.eve@example.org', token: BOB_PHONE.token },
      { did: 'not-a-did', token: 'x' },
    ]) {
      const client = await TestClient.open(front.port);
      client.send(buildGreeting([Socks5Method.USERNAME_PASSWORD]));
      expect(hex(await client.read(2))).toBe('0502');
      client.send(buildAuthRequest(creds.did, creds.token));
      const { rest } = await client.untilClosed();
      expect(hex(rest)).toBe('0101');
      await client.destroy();
    }
    expect(front.handler.stats().failed['bad-credentials']).toBe(3);
  });

  it('answers a client without username/password with 0xFF and closes', async () => {
    const client = await TestClient.open(front.port);
    client.send(buildGreeting([Socks5Method.NO_AUTH, Socks5Method.GSSAPI]));
    const { rest } = await client.untilClosed();
    expect(hex(rest)).toBe('05ff');
    expect(front.authenticator.calls).toBe(0);
    await client.destroy();
  });

  it('answers BIND and UDP ASSOCIATE with 0x07 and closes', async () => {
    for (const command of [Socks5Command.BIND, Socks5Command.UDP_ASSOCIATE]) {
      const client = await authenticated();
      client.send(buildRequest(command, { host: '127.0.0.1', port: 0, addressType: 'ipv4' }));
      const { rest } = await client.untilClosed();
      expect(hex(rest)).toBe('05070001000000000000');
      await client.destroy();
    }
    expect(front.handler.stats()).toMatchObject({ handedOver: 0, failed: { 'command-not-supported': 2 } });
  });

  it('answers an unknown address type with 0x08 and closes', async () => {
    const client = await authenticated();
    client.send(Buffer.from('0501000502', 'hex'));
    const { rest } = await client.untilClosed();
    expect(hex(rest)).toBe('05080001000000000000');
    await client.destroy();
  });

  it('answers with status 0x01 when the authenticator itself fails', async () => {
    front.authenticator.broken = true;
    const client = await TestClient.open(front.port);
    client.send(Buffer.concat([buildGreeting([2]), buildAuthRequest(BOB_PHONE.did, BOB_PHONE.token)]));
    const { rest } = await client.untilClosed();
    expect(hex(rest)).toBe('05020101');
    expect(front.handler.stats().failed['auth-unavailable']).toBe(1);
    await client.destroy();
  });

  it('gives each reject() reason its REP, counts it in the preamble, and closes', async () => {
    for (const reason of CONNECT_FAILURES as ConnectFailure[]) {
      const client = await authenticated();
      client.send(buildRequest(Socks5Command.CONNECT, { host: 'a.example', port: 80, addressType: 'domain' }));
      const pending = await front.nextPending();
      pending.reject(reason);
      expect(pending.preambleBytes()).toBe(14);
      const { rest } = await client.untilClosed();
      expect(rest[1]).toBe(socks5ReplyFor(reason));
      expect(hex(rest)).toBe(hex(buildReply(socks5ReplyFor(reason))));
      await client.destroy();
    }
  });
});

describe('SOCKS5 front: onConnect failures', () => {
  it('answers general failure when onConnect throws before answering', async () => {
    await front.close();
    front = await startFront({}, () => {
      throw new Error('boom');
    });
    const client = await authenticated();
    client.send(buildRequest(Socks5Command.CONNECT, { host: 'a.example', port: 80, addressType: 'domain' }));
    const { rest } = await client.untilClosed();
    expect(hex(rest)).toBe('05010001000000000000');
    expect(front.handler.stats().failed['onconnect-failed']).toBe(1);
    await client.destroy();
  });
});
