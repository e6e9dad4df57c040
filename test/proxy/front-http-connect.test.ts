import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectFailure, Destination } from '../../src/proxy/front/types.js';
import { CONNECT_FAILURES, CONNECT_FAILURE_REPLIES } from '../../src/proxy/wire/reply-codes.js';
import { BOB_PC, BOB_PHONE, TestClient, startFront, type TestFront } from './front-harness.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const connectRequest = (target: string, auth?: string, extra = ''): string =>
  `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}${extra}\r\n`;

let front: TestFront;
beforeEach(async () => {
  front = await startFront({ handshakeTimeoutMs: 2000 });
});
afterEach(async () => {
  await front.close();
});

/** Sends `request` and returns the status line and headers of the answer, once the server closed. */
async function refused(request: string | Buffer): Promise<{ status: number; head: string }> {
  const client = await TestClient.open(front.port);
  client.send(request);
  const { rest } = await client.untilClosed();
  await client.destroy();
  const head = rest.toString('latin1');
  return { status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]), head };
}

describe('HTTP CONNECT front: success', () => {
  const cases: [string, Destination][] = [
    ['files.example.org:443', { host: 'files.example.org', port: 443, addressType: 'domain' }],
    ['192.0.2.7:8080', { host: '192.0.2.7', port: 8080, addressType: 'ipv4' }],
    ['[2001:db8::7]:22', { host: '2001:db8::7', port: 22, addressType: 'ipv6' }],
  ];
  for (const [target, destination] of cases) {
    it(`hands over CONNECT ${target} with its head, then relays bytes exactly`, async () => {
      const client = await TestClient.open(front.port);
      const head = randomBytes(200);
      client.send(Buffer.concat([Buffer.from(connectRequest(target, basic(BOB_PC.did, BOB_PC.token))), head]));
      const pending = await front.nextPending();
      expect(pending.protocol).toBe('http-connect');
      expect(pending.destination).toEqual(destination);
      expect(pending.identity).toEqual({ uid: 'bob@example.org', device: 'pc', did: BOB_PC.did });
      expect(sha(pending.head)).toBe(sha(head));
      expect(pending.socket.isPaused()).toBe(true);
      const fresh = new Socket();
      for (const event of ['data', 'end', 'close', 'readable']) {
        expect(pending.socket.listenerCount(event)).toBe(fresh.listenerCount(event));
      }
      expect(pending.preambleBytes()).toBe(0);

      pending.accept({ address: '127.0.0.1', port: 1 });
      const established = 'HTTP/1.1 200 Connection Established\r\n\r\n';
      expect((await client.read(established.length)).toString()).toBe(established);
      expect(pending.preambleBytes()).toBe(established.length);
      expect(pending.socket.bytesWritten).toBe(established.length);

      // Downstream too: what the proxy writes after the preamble reaches the client unchanged.
      const down = randomBytes(256 * 1024);
      pending.socket.write(down);
      expect(sha(await client.read(down.length))).toBe(sha(down));

      const up = randomBytes(256 * 1024);
      const received: Buffer[] = [pending.head];
      pending.socket.on('data', (c: Buffer) => received.push(c));
      pending.socket.resume();
      client.socket.end(up);
      await once(pending.socket, 'end');
      expect(sha(Buffer.concat(received))).toBe(sha(Buffer.concat([head, up])));
      await client.destroy();
    });
  }

  it('accepts a request trickled byte by byte within the deadline', async () => {
    const client = await TestClient.open(front.port);
    for (const byte of Buffer.from(connectRequest('a.example:1', basic(BOB_PHONE.did, BOB_PHONE.token)))) {
      client.send(Buffer.from([byte]));
    }
    const pending = await front.nextPending();
    expect(pending.destination.host).toBe('a.example');
    expect(pending.head.length).toBe(0);
    await client.destroy();
  });
});

describe('HTTP CONNECT front: refusals', () => {
  it('answers missing or wrong credentials with 407 and a Basic challenge, then closes', async () => {
    for (const auth of [
      undefined,
      basic(BOB_PHONE.did, 'wrong'),
      basic('phone.eve@example.org', BOB_PHONE.token),
      'Bearer abc',
      'Basic %%%',
    ]) {
      const { status, head } = await refused(connectRequest('a.example:443', auth));
      expect(status).toBe(407);
      expect(head).toContain('\r\nProxy-Authenticate: Basic realm="tsmp"\r\n');
    }
    expect(front.handler.stats().failed['bad-credentials']).toBe(5);
    expect(front.handler.stats().handedOver).toBe(0);
  });

  it('answers other methods with 405 and Allow: CONNECT', async () => {
    const { status, head } = await refused('GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n');
    expect(status).toBe(405);
    expect(head).toContain('\r\nAllow: CONNECT\r\n');
  });

  it('answers a malformed request with 400', async () => {
    expect((await refused('CONNECT a.example HTTP/1.1\r\n\r\n')).status).toBe(400);
    expect((await refused('Hello there\r\n\r\n')).status).toBe(400);
    expect((await refused(connectRequest('[a.example]:1', basic(BOB_PHONE.did, BOB_PHONE.token)))).status).toBe(400);
  });

  it('answers headers past the limit with 431, before reading them all', async () => {
    const huge = connectRequest('a.example:1', basic(BOB_PHONE.did, BOB_PHONE.token), `X-Pad: ${'p'.repeat(9000)}\r\n`);
    const { status } = await refused(huge);
    expect(status).toBe(431);
    expect(front.authenticator.calls).toBe(0);
    await front.close();
    front = await startFront({ maxHttpHeaderBytes: 16 * 1024 });
    const client = await TestClient.open(front.port);
    client.send(huge);
    expect((await front.nextPending()).destination.host).toBe('a.example');
    await client.destroy();
  });

  it('answers 503 when the authenticator itself fails', async () => {
    front.authenticator.broken = true;
    const { status, head } = await refused(connectRequest('a.example:1', basic(BOB_PHONE.did, BOB_PHONE.token)));
    expect(status).toBe(503);
    expect(head).toContain('Proxy-Status: tsmp; error=proxy_internal_error');
  });

  it('gives each reject() reason its status and Proxy-Status, and closes', async () => {
    for (const reason of CONNECT_FAILURES as ConnectFailure[]) {
      const client = await TestClient.open(front.port);
      client.send(connectRequest('a.example:1', basic(BOB_PHONE.did, BOB_PHONE.token)));
      const pending = await front.nextPending();
      pending.reject(reason);
      const { rest } = await client.untilClosed();
      const head = rest.toString('latin1');
      const expected = CONNECT_FAILURE_REPLIES[reason];
      expect(head.startsWith(`HTTP/1.1 ${expected.http} `)).toBe(true);
      expect(head).toContain(`\r\nProxy-Status: tsmp; error=${expected.proxyStatus}\r\n`);
      expect(pending.preambleBytes()).toBe(rest.length);
      await client.destroy();
    }
  });
});
