import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Socks5ClientHandshake, STATES } from '../../src/agent/proxy-client/socks5-client-handshake.js';
import { attachByTicket, connectViaProxy } from '../../src/agent/proxy-client/connect-via-proxy.js';
import { listen, payload, readAll, sha256, writeChunked } from './helpers/sockets.js';
import { startFakeProxy, type FakeProxy } from './helpers/fake-proxy.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Feeds `bytes` split at `at` and returns the last step. */
function feedSplit(h: Socks5ClientHandshake, bytes: Buffer, at: number) {
  const first = h.feed(bytes.subarray(0, at));
  if (at === bytes.length) return first;
  expect(first.kind).toBe('wait');
  return h.feed(bytes.subarray(at));
}

describe('SOCKS5 client handshake (RFC 1928 + RFC 1929), on bytes', () => {
  const did = 'pc.bob@example.org';
  const make = () => new Socks5ClientHandshake({ host: 'abc.ticket.tsmp.invalid', port: 1, username: did, password: 'tok' });

  it('offers username/password, sends the credentials, then CONNECT by name', () => {
    const h = make();
    expect(h.start().toString('hex')).toBe('050102');
    const auth = h.feed(hex('0502'));
    expect(auth).toEqual({ kind: 'send', data: Buffer.concat([hex('0112'), Buffer.from(did), hex('03'), Buffer.from('tok')]) });
    const req = h.feed(hex('0100'));
    const name = Buffer.from('abc.ticket.tsmp.invalid');
    expect(req).toEqual({ kind: 'send', data: Buffer.concat([hex('050100 03'), Buffer.from([name.length]), name, hex('0001')]) });
    expect(h.state).toBe(STATES.REPLY);
  });

  const replies: Array<[string, string, { host: string; port: number }]> = [
    ['IPv4', '05 00 00 01 7f000001 1f90', { host: '127.0.0.1', port: 8080 }],
    ['domain', '05 00 00 03 04 70726f78 0050', { host: 'prox', port: 80 }],
    ['IPv6', '05 00 00 04 00000000000000000000000000000001 0001', { host: '0:0:0:0:0:0:0:1', port: 1 }],
  ];
  for (const [name, bytes, bound] of replies) {
    it(`parses a ${name} reply whole and split at every offset, keeping tunnel bytes that follow`, () => {
      const reply = Buffer.concat([hex(bytes), hex('cafe')]);
      for (let at = 1; at <= hex(bytes).length - 1; at++) {
        const h = make();
        h.start();
        h.feed(hex('0502'));
        h.feed(hex('0100'));
        const step = feedSplit(h, reply, at);
        expect(step).toEqual({ kind: 'done', bound, rest: hex('cafe') });
      }
      const whole = make();
      whole.start();
      whole.feed(hex('0502'));
      whole.feed(hex('0100'));
      expect(whole.feed(reply)).toEqual({ kind: 'done', bound, rest: hex('cafe') });
    });
  }

  it('pipelined: greeting, credentials and CONNECT in one write; the three replies in any split', () => {
    const mk = () => new Socks5ClientHandshake({ host: 'abc.ticket.tsmp.invalid', port: 1, username: did, password: 'tok', pipeline: true });
    const name = Buffer.from('abc.ticket.tsmp.invalid');
    expect(mk().start()).toEqual(Buffer.concat([
      hex('050102'), hex('0112'), Buffer.from(did), hex('03'), Buffer.from('tok'),
      hex('050100 03'), Buffer.from([name.length]), name, hex('0001'),
    ]));
    const replies = Buffer.concat([hex('0502'), hex('0100'), hex('05 00 00 01 7f000001 1f90'), hex('cafe')]);
    const done = { kind: 'done', bound: { host: '127.0.0.1', port: 8080 }, rest: hex('cafe') };
    // All three in one read (as they arrive when the proxy answers at once).
    const whole = mk();
    whole.start();
    expect(whole.feed(replies)).toEqual(done);
    // Every split point: nothing is sent back (all went with the greeting), the end is the same.
    for (let at = 1; at < replies.length - 2; at++) {
      const h = mk();
      h.start();
      expect(h.feed(replies.subarray(0, at)).kind).toBe('wait');
      expect(h.feed(replies.subarray(at))).toEqual(done);
    }
    const refused = mk();
    refused.start();
    expect(() => refused.feed(Buffer.concat([hex('0502'), hex('0101')]))).toThrow(expect.objectContaining({ code: 'ERR_SOCKS_AUTH_FAILED' }));
  });

  it('maps refusals to stable codes', () => {
    const h1 = make();
    h1.start();
    expect(() => h1.feed(hex('05ff'))).toThrow(expect.objectContaining({ code: 'ERR_SOCKS_NO_METHOD' }));
    const h2 = make();
    h2.start();
    h2.feed(hex('0502'));
    expect(() => h2.feed(hex('0101'))).toThrow(expect.objectContaining({ code: 'ERR_SOCKS_AUTH_FAILED' }));
    const h3 = make();
    h3.start();
    h3.feed(hex('0502'));
    h3.feed(hex('0100'));
    expect(() => h3.feed(hex('05050001000000000000'))).toThrow(expect.objectContaining({ code: 'ERR_SOCKS_CONNECT', reply: 5 }));
    const h4 = make();
    h4.start();
    expect(() => h4.feed(hex('0400'))).toThrow(expect.objectContaining({ code: 'ERR_SOCKS_PROTOCOL' }));
  });

  it('refuses credentials RFC 1929 cannot carry', () => {
    expect(() => new Socks5ClientHandshake({ host: 'a', port: 1, username: 'x'.repeat(256), password: 'p' })).toThrow(
      expect.objectContaining({ code: 'ERR_SOCKS_CREDENTIALS' }),
    );
  });
});

describe('connecting through a proxy over real sockets', () => {
  let proxy: FakeProxy | undefined;
  afterEach(async () => proxy?.close());

  it('tunnels to a destination with the device credentials, byte for byte both ways', async () => {
    const echo = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    const port = await listen(echo);
    proxy = await startFakeProxy({ users: { 'phone.bob@example.org': 't0k' } });
    const tunnel = await connectViaProxy('127.0.0.1', port, { proxy: { host: '127.0.0.1', port: proxy.port }, did: 'phone.bob@example.org', token: 't0k' });
    expect(tunnel.bound).toEqual({ host: '127.0.0.1', port: 0x1234 });
    const data = payload(1024 * 1024);
    const back = readAll(tunnel.socket);
    tunnel.socket.resume();
    await writeChunked(tunnel.socket, data);
    expect(sha256(await back)).toBe(sha256(data));
    expect(proxy.logins).toEqual(['phone.bob@example.org:t0k']);
    echo.close();
  });

  it('attaches by ticket and reads the resumed stream from its first byte, even when it came with the reply', async () => {
    const data = payload(500_000);
    proxy = await startFakeProxy({
      users: { 'pc.bob@example.org': 'pw' },
      onTicket: (ticket, socket: Socket) => {
        expect(ticket).toBe('T-123_abc');
        void writeChunked(socket, data);
      },
    });
    const tunnel = await attachByTicket('T-123_abc', { proxy: { host: '127.0.0.1', port: proxy.port }, did: 'pc.bob@example.org', token: 'pw' });
    const got = readAll(tunnel.socket);
    tunnel.socket.resume();
    expect(sha256(await got)).toBe(sha256(data));
    expect(proxy.destinations).toEqual(['T-123_abc.ticket.tsmp.invalid:1']);
  });

  it('fails with one clear error on wrong credentials, an unreachable proxy, or a refused CONNECT', async () => {
    proxy = await startFakeProxy({ users: { a: 'b' } });
    const at = { host: '127.0.0.1', port: proxy.port };
    await expect(connectViaProxy('127.0.0.1', 9, { proxy: at, did: 'a', token: 'wrong' })).rejects.toMatchObject({ code: 'ERR_SOCKS_AUTH_FAILED' });
    const dead = createServer();
    const deadPort = await listen(dead);
    dead.close();
    await expect(connectViaProxy('127.0.0.1', 9, { proxy: { host: '127.0.0.1', port: deadPort }, did: 'a', token: 'b' })).rejects.toMatchObject({
      code: 'ERR_PROXY_UNREACHABLE',
    });
    const refusing = await startFakeProxy({ users: { a: 'b' }, refuseWith: 2 });
    await expect(connectViaProxy('x.example', 80, { proxy: { host: '127.0.0.1', port: refusing.port }, did: 'a', token: 'b' })).rejects.toMatchObject({
      code: 'ERR_SOCKS_CONNECT',
      reply: 2,
    });
    await refusing.close();
    await expect(attachByTicket('bad ticket!', { proxy: at })).rejects.toMatchObject({ code: 'ERR_BAD_TICKET' });
  });

  it('times out a proxy that never answers', async () => {
    const silent = createServer(() => undefined);
    const port = await listen(silent);
    await expect(connectViaProxy('a', 1, { proxy: { host: '127.0.0.1', port }, did: 'a', token: 'b', timeoutMs: 150 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    silent.close();
  });
});
