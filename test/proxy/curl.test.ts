import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { did, startProxy, TOKENS, type Harness } from '../support/proxy-harness.js';

const run = promisify(execFile);
const body = randomBytes(5 * 1024 * 1024 + 17);
const bodyHash = createHash('sha256').update(body).digest('hex');
let http: Server;
let httpPort: number;
let harness: Harness;

beforeAll(async () => {
  http = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpPort = (http.address() as AddressInfo).port;
  harness = await startProxy();
});
afterAll(async () => {
  await harness.close();
  await new Promise((r) => http.close(r));
});

async function curlHash(args: string[]): Promise<{ hash: string; code: number; stderr: string }> {
  try {
    const { stdout, stderr } = await run('curl', ['-sS', '--max-time', '20', ...args], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
    return { hash: createHash('sha256').update(stdout).digest('hex'), code: 0, stderr: stderr.toString() };
  } catch (err) {
    const e = err as { code: number; stderr: Buffer };
    return { hash: '', code: e.code, stderr: e.stderr.toString() };
  }
}

describe('real curl through the proxy', () => {
  it('SOCKS5 with --socks5-hostname and user:pass', async () => {
    const r = await curlHash(['--socks5-hostname', `127.0.0.1:${harness.port}`, '--proxy-user', `${did('phone')}:${TOKENS.phone}`, `http://localhost:${httpPort}/video`]);
    expect(r.stderr).toBe('');
    expect(r.hash).toBe(bodyHash);
  });

  it('SOCKS5 with the credentials in the proxy URL', async () => {
    const user = encodeURIComponent(did('pc'));
    const r = await curlHash(['-x', `socks5h://${user}:${TOKENS.pc}@127.0.0.1:${harness.port}`, `http://127.0.0.1:${httpPort}/`]);
    expect(r.hash).toBe(bodyHash);
  });

  it('HTTP CONNECT with -p -x and Proxy-Authorization: Basic', async () => {
    const user = encodeURIComponent(did('phone'));
    const r = await curlHash(['-p', '-x', `http://${user}:${TOKENS.phone}@127.0.0.1:${harness.port}`, `http://127.0.0.1:${httpPort}/`]);
    expect(r.stderr).toBe('');
    expect(r.hash).toBe(bodyHash);
  });

  it('wrong credentials fail in both protocols, and no byte of the body leaks', async () => {
    const socks = await curlHash(['--socks5-hostname', `127.0.0.1:${harness.port}`, '--proxy-user', `${did('phone')}:wrong`, `http://127.0.0.1:${httpPort}/`]);
    expect(socks.code).toBe(97); // CURLE_PROXY: SOCKS authentication failed
    const http407 = await curlHash(['-p', '-x', `http://127.0.0.1:${harness.port}`, '--proxy-user', `${did('phone')}:wrong`, `http://127.0.0.1:${httpPort}/`]);
    expect(http407.code).toBe(56);
    expect(http407.stderr).toContain('407');
  });

  it('a refused destination gets SOCKS5 REP 5 and HTTP 502', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const socks = await curlHash(['--socks5-hostname', `127.0.0.1:${harness.port}`, '--proxy-user', `${did('phone')}:${TOKENS.phone}`, `http://127.0.0.1:${port}/`]);
    expect(socks.stderr).toContain('SOCKS5 connection to 127.0.0.1. (5)'); // REP 0x05, connection refused
    const connect = await curlHash(['-p', '-x', `http://127.0.0.1:${harness.port}`, '--proxy-user', `${did('phone')}:${TOKENS.phone}`, `http://127.0.0.1:${port}/`]);
    expect(connect.stderr).toContain('502');
  });

  it('a name that does not resolve gets SOCKS5 REP 4 (host unreachable)', async () => {
    const socks = await curlHash(['--socks5-hostname', `127.0.0.1:${harness.port}`, '--proxy-user', `${did('phone')}:${TOKENS.phone}`, 'http://nonexistent.invalid/']);
    expect(socks.stderr).toContain('SOCKS5 connection to nonexistent.invalid. (4)');
  });
});
