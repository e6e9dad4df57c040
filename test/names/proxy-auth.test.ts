/**
 * The proxy authenticating devices through the name server, end to end with curl: curl goes
 * through the real proxy over SOCKS5 with a device's DID and token, the proxy asks the name
 * server (NameServerAuthenticator), and after the device is revoked curl is refused within the
 * cache's lifetime.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Proxy } from '../../src/proxy/proxy.js';
import { NameServerAuthenticator } from '../../src/proxy/auth/nameserver-authenticator.js';
import type { NameServer } from '../../src/names/name-server.js';
import { SERVICE_KEY, sleep, startTestServer, userWithDevices } from './helpers.js';

const run = promisify(execFile);
const BODY = randomBytes(256 * 1024);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let names: NameServer;
let origin: Server;
let originPort: number;

beforeAll(async () => {
  names = await startTestServer();
  origin = createServer((_req, res) => res.end(BODY));
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originPort = (origin.address() as AddressInfo).port;
});
afterAll(async () => {
  await names.close();
  await new Promise((r) => origin.close(r));
});

async function curlThrough(proxyPort: number, did: string, token: string): Promise<{ ok: boolean; body: Buffer }> {
  try {
    const { stdout } = await run(
      'curl',
      ['-sS', '--max-time', '10', '--socks5', `127.0.0.1:${proxyPort}`, '--proxy-user', `${did}:${token}`, `http://127.0.0.1:${originPort}/`],
      { encoding: 'buffer', maxBuffer: 4 << 20 },
    );
    return { ok: true, body: stdout };
  } catch {
    return { ok: false, body: Buffer.alloc(0) };
  }
}

describe('proxy authentication through the name server', () => {
  it('lets a registered device through, refuses a wrong token, and refuses a revoked device within seconds', async () => {
    const { user, devices } = await userWithDevices(names.url, 'curl@example.org', ['phone', 'pc']);
    const auth = NameServerAuthenticator.fromUrl(names.url, { cacheTtlMs: 500, serviceKey: SERVICE_KEY });
    const proxy = new Proxy({ listen: { host: '127.0.0.1', port: 0 }, control: { host: '127.0.0.1', port: 0 } }, { authenticator: auth });
    const bound = await proxy.start();
    try {
      const ok = await curlThrough(bound.listen.port, devices[0]!.did, devices[0]!.token);
      expect(ok.ok).toBe(true);
      expect(sha(ok.body)).toBe(sha(BODY));
      expect((await curlThrough(bound.listen.port, devices[0]!.did, 'wrong-token')).ok).toBe(false);
      expect(await auth.resolveDevice('curl@example.org', 'pc')).toEqual({ uid: 'curl@example.org', device: 'pc', did: devices[1]!.did });
      expect(await auth.resolveDevice('curl@example.org', 'ghost')).toBeNull();
      expect(await auth.resolveDevice('other@example.org', devices[1]!.did)).toBeNull();

      await user.revokeDevice(devices[0]!.did);
      const revokedAt = Date.now();
      let refusedAfter = -1;
      while (Date.now() - revokedAt < 5000) {
        if (!(await curlThrough(bound.listen.port, devices[0]!.did, devices[0]!.token)).ok) {
          refusedAfter = Date.now() - revokedAt;
          break;
        }
        await sleep(100);
      }
      expect(refusedAfter).toBeGreaterThanOrEqual(0);
      expect(refusedAfter).toBeLessThan(2000);
      // The other device is unaffected.
      expect(sha((await curlThrough(bound.listen.port, devices[1]!.did, devices[1]!.token)).body)).toBe(sha(BODY));
    } finally {
      await proxy.close();
      await auth.close();
    }
  });
});
