import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/logger.js';
import { LocalSocksEndpoint } from '../../src/agent/socks-endpoint/local-socks-endpoint.js';
import { Socks5NoAuthServerHandshake, STATES } from '../../src/agent/socks-endpoint/socks5-noauth-handshake.js';
import { connectViaProxy } from '../../src/agent/proxy-client/connect-via-proxy.js';
import { AppHandler } from '../../src/agent/handlers/app-handler.js';
import { listen, payload, sha256, tcpPair, writeChunked } from './helpers/sockets.js';
import { startFakeProxy, type FakeProxy } from './helpers/fake-proxy.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('no-auth SOCKS5 server handshake, on bytes', () => {
  const greeting = hex('05 02 00 02');
  const request = Buffer.concat([hex('05 01 00 03 0b'), Buffer.from('example.org'), hex('01bb')]);
  const all = Buffer.concat([greeting, request, hex('4142')]);

  it('parses greeting + request + pipelined data whole and split at every offset', () => {
    // Split anywhere in the handshake; the tunnel bytes ride at the end of the last chunk.
    for (let at = 0; at < greeting.length + request.length; at++) {
      const h = new Socks5NoAuthServerHandshake();
      const a = h.feed(all.subarray(0, at));
      const b = h.feed(all.subarray(at));
      const sent = Buffer.concat([...a.send, ...b.send]);
      expect(sent.toString('hex')).toBe('0500');
      const req = a.request ?? b.request;
      expect(req).toEqual({ host: 'example.org', port: 443, rest: hex('4142') });
      expect(h.state).toBe(STATES.DONE);
    }
  });

  it('refuses clients without the no-auth method, other commands and address types', () => {
    expect(new Socks5NoAuthServerHandshake().feed(hex('050102'))).toMatchObject({ send: [hex('05ff')], error: expect.any(String) });
    const bind = new Socks5NoAuthServerHandshake().feed(hex('050100 05020001 7f000001 0050'));
    expect(bind.send[1]![1]).toBe(0x07);
    const atyp = new Socks5NoAuthServerHandshake().feed(hex('050100 05010009 00'));
    expect(atyp.send[1]![1]).toBe(0x08);
    expect(new Socks5NoAuthServerHandshake().feed(hex('04')).error).toBeDefined();
  });
});

describe('local SOCKS endpoint over real sockets', () => {
  let proxy: FakeProxy | undefined;
  let endpoint: LocalSocksEndpoint | undefined;
  afterEach(async () => {
    await endpoint?.close();
    await proxy?.close();
  });

  it('forwards a no-auth client (curl) to the proxy with the device credentials, byte for byte', async () => {
    const body = payload(700_000);
    const http = createServer((s) => s.once('data', () => s.end(Buffer.concat([Buffer.from(`HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body]))));
    const port = await listen(http);
    proxy = await startFakeProxy({ users: { 'phone.bob@example.org': 'tok' } });
    endpoint = new LocalSocksEndpoint({
      host: '127.0.0.1',
      port: 0,
      proxy: () => ({ host: '127.0.0.1', port: proxy!.port }),
      credentials: () => ({ did: 'phone.bob@example.org', token: 'tok' }),
      logger: silentLogger,
    });
    const at = await endpoint.listen();
    const curl = spawn('curl', ['-s', '--socks5-hostname', `127.0.0.1:${at.port}`, `http://localhost:${port}/x`]);
    const chunks: Buffer[] = [];
    curl.stdout.on('data', (c: Buffer) => chunks.push(c));
    const code = await new Promise((r) => curl.once('close', r));
    expect(code).toBe(0);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(body));
    expect(proxy.logins).toEqual(['phone.bob@example.org:tok']);
    expect(proxy.destinations).toEqual([`localhost:${port}`]);
    http.close();
  });

  it('passes the proxy refusal code through to the client', async () => {
    proxy = await startFakeProxy({ users: { a: 'b' }, refuseWith: 5 });
    endpoint = new LocalSocksEndpoint({ host: '127.0.0.1', port: 0, proxy: () => ({ host: '127.0.0.1', port: proxy!.port }), credentials: () => ({ did: 'a', token: 'b' }) });
    const at = await endpoint.listen();
    await expect(connectViaProxy('example.org', 80, { proxy: { host: '127.0.0.1', port: at.port } })).rejects.toMatchObject({ code: 'ERR_SOCKS_CONNECT', reply: 5 });
  });

  it('refuses to listen anywhere but loopback', () => {
    expect(() => new LocalSocksEndpoint({ host: '0.0.0.0', port: 0, proxy: () => undefined, credentials: () => undefined })).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
  });

  it('app handler: the legacy app connects through the endpoint and gets the resumed stream', async () => {
    endpoint = new LocalSocksEndpoint({ host: '127.0.0.1', port: 0, proxy: () => undefined, credentials: () => undefined });
    await endpoint.listen();
    const { upstream, stream } = await tcpPair();
    // Text, since curl's telnet:// client gives 0xFF its telnet meaning (IAC, RFC 854).
    const down = Buffer.from(payload(300_000).toString('base64'));
    const handler = new AppHandler({
      name: 'default',
      // A legacy client: connects to the destination through $ALL_PROXY, sends a line, prints what comes back.
      command: 'curl -s --max-time 20 -x "$ALL_PROXY" telnet://$TSMP_DESTINATION < /dev/null > "$OUT"',
      pickup: endpoint.pickup,
    });
    const out = `/tmp/tsmp-app-${process.pid}.bin`;
    process.env.OUT = out;
    const done = handler.handle({ stream, migration: 'm1', connection: 'c1', destination: 'chat.example:7000' }, { logger: silentLogger });
    await writeChunked(upstream, down);
    const outcome = await done;
    expect(outcome.exitCode).toBe(0);
    const { readFileSync, rmSync } = await import('node:fs');
    expect(sha256(readFileSync(out))).toBe(sha256(down));
    rmSync(out);
    delete process.env.OUT;
  });
});
