import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DialError, dialDestination } from '../../src/proxy/front/dial.js';
import type { PendingConnect } from '../../src/proxy/front/types.js';
import { BOB_PHONE, startFront, type TestFront } from './front-harness.js';

const hasCurl = spawnSync('curl', ['--version']).status === 0;
if (!hasCurl) console.warn('front-curl: curl not installed, skipping (scripts/ci-deps.sh installs it)');

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Deterministic body: bytes of a counter, so a shifted or repeated chunk changes the hash. */
const BODY = Buffer.alloc(4 * 1024 * 1024);
for (let i = 0; i < BODY.length; i += 4) BODY.writeUInt32BE(i / 4, i);

/** The smallest proxy behind the front: dial, answer, splice. The real relay is the proxy's. */
async function spliceProxy(pending: PendingConnect): Promise<void> {
  let upstream: Socket;
  try {
    upstream = await dialDestination(pending.destination, { timeoutMs: 2000 });
  } catch (err) {
    pending.reject(err instanceof DialError ? err.failure : 'general');
    return;
  }
  pending.accept({ address: upstream.localAddress ?? '0.0.0.0', port: upstream.localPort ?? 0 });
  upstream.write(pending.head);
  pending.socket.removeAllListeners('error');
  pending.socket.on('error', () => upstream.destroy());
  upstream.on('error', () => pending.socket.destroy());
  pending.socket.pipe(upstream);
  upstream.pipe(pending.socket);
}

function curl(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '20', ...args], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr: stderr.toString() });
    });
  });
}

describe.skipIf(!hasCurl)('front with real curl', () => {
  let web: Server;
  let webPort: number;
  let front: TestFront;
  const did = encodeURIComponent(BOB_PHONE.did);

  beforeAll(async () => {
    web = createServer((req, res) => {
      res.setHeader('content-length', BODY.length);
      res.end(BODY);
    });
    web.listen(0, '127.0.0.1');
    await once(web, 'listening');
    webPort = (web.address() as AddressInfo).port;
    front = await startFront({}, spliceProxy);
  });
  afterAll(async () => {
    await front.close();
    web.closeAllConnections();
    web.close();
  });

  it('downloads through SOCKS5 (--socks5-hostname, user:pass) byte for byte', async () => {
    const r = await curl([
      '--socks5-hostname', `127.0.0.1:${front.port}`,
      '--proxy-user', `${BOB_PHONE.did}:${BOB_PHONE.token}`,
      `http://localhost:${webPort}/file`,
    ]);
    expect(r.stderr).toBe('');
    expect(sha(r.stdout)).toBe(sha(BODY));
  });

  it('downloads through SOCKS5 with an IPv4 destination (socks5://) byte for byte', async () => {
    const r = await curl(['-x', `socks5://${did}:${BOB_PHONE.token}@127.0.0.1:${front.port}`, `http://127.0.0.1:${webPort}/`]);
    expect(sha(r.stdout)).toBe(sha(BODY));
  });

  it('downloads through HTTP CONNECT (-p -x http://user:pass@) byte for byte', async () => {
    const r = await curl(['-p', '-x', `http://${did}:${BOB_PHONE.token}@127.0.0.1:${front.port}`, `http://127.0.0.1:${webPort}/`]);
    expect(r.stderr).toBe('');
    expect(sha(r.stdout)).toBe(sha(BODY));
  });

  it('fails cleanly with wrong credentials on both protocols', async () => {
    const socks = await curl(['-x', `socks5h://${did}:nope@127.0.0.1:${front.port}`, `http://localhost:${webPort}/`]);
    expect(socks.code).not.toBe(0);
    expect(socks.stdout.length).toBe(0);
    const http = await curl(['-p', '-x', `http://${did}:nope@127.0.0.1:${front.port}`, `http://127.0.0.1:${webPort}/`]);
    expect(http.code).not.toBe(0);
    expect(http.stderr).toMatch(/407/);
  });

  it('reports a refused destination as SOCKS5 REP 5 and HTTP 502', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const socks = await curl(['-x', `socks5://${did}:${BOB_PHONE.token}@127.0.0.1:${front.port}`, `http://127.0.0.1:${port}/`]);
    expect(socks.code).not.toBe(0);
    // Older curl prints the REP number, newer ones its meaning.
    expect(socks.stderr).toMatch(/\(5\)|refused/i);
    const http = await curl(['-p', '-x', `http://${did}:${BOB_PHONE.token}@127.0.0.1:${front.port}`, `http://127.0.0.1:${port}/`]);
    expect(http.stderr).toMatch(/502/);
  });
});
