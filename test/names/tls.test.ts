/** HTTPS and WSS with --tls-cert/--tls-key, and clients trusting the CA given with --ca. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NameServer } from '../../src/names/name-server.js';
import { NameServerClient } from '../../src/names/client/name-server-client.js';
import { nextMessage, SERVICE_KEY, startTestServer, tempDir } from './helpers.js';

const tmp = tempDir();
let server: NameServer;
let ca: Buffer;

beforeAll(async () => {
  const key = join(tmp.dir, 'key.pem');
  const cert = join(tmp.dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  ca = readFileSync(cert);
  server = await startTestServer({ tls: { cert: ca, key: readFileSync(key) } });
});
afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

describe('TLS', () => {
  it('serves HTTPS and WSS to clients that trust the CA, and is refused by those that do not', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const untrusting = new NameServerClient({ url: server.url });
    await expect(untrusting.health()).rejects.toThrow(/self-signed|certificate/i);
    const anon = new NameServerClient({ url: server.url, ca });
    expect(await anon.health()).toEqual({ ok: true, store: 'sqlite' });
    await anon.registerUser('tls@example.org', 'correct horse battery');
    const user = anon.withAuth({ uid: 'tls@example.org', password: 'correct horse battery' });
    const d = await user.addDevice('tls@example.org', 'phone');
    const agent = anon.withAuth({ did: d.did, token: d.token }).openPush();
    try {
      await agent.ready();
      const got = nextMessage(agent, (m) => m.type === 'migration');
      await anon.withAuth({ serviceKey: SERVICE_KEY }).push(d.did, { type: 'migration', ticket: 'over-tls' });
      expect(await got).toMatchObject({ ticket: 'over-tls' });
    } finally {
      agent.close();
    }
  });
});
