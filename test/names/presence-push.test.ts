/** Heartbeat timeouts, CoA subscriptions (paper V.B.4), push delivery and reconnect. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import WebSocket from 'ws';
import { NameServer } from '../../src/names/name-server.js';
import { NameServerClient } from '../../src/names/client/name-server-client.js';
import { basicHeader } from '../../src/names/api/credentials.js';
import { nextMessage, PASSWORD, SERVICE_KEY, sleep, startTestServer, tempDir, userWithDevices } from './helpers.js';

describe('heartbeats and presence', () => {
  let server: NameServer;
  beforeAll(async () => {
    server = await startTestServer({ settings: { heartbeatIntervalMs: 500, missedHeartbeats: 2 } });
  });
  afterAll(async () => server.close());

  it('a device turns offline after the configured number of missed heartbeats', async () => {
    const { devices } = await userWithDevices(server.url, 'hb@example.org', ['phone', 'pc']);
    const [phone, pc] = devices;
    const reply = await phone!.client.heartbeat({ coa: '198.18.2.1:1000', groupModified: 0 });
    expect(reply.intervalMs).toBe(500);
    expect(reply.missedHeartbeats).toBe(2);
    expect(reply.devices.map((d) => [d.did, d.status])).toEqual([
      [pc!.did, 'offline'],
      [phone!.did, 'online'],
    ]);
    await sleep(100);
    expect((await pc!.client.resolve(phone!.did)).status).toBe('online'); // within one interval
    await sleep(1000);
    expect((await pc!.client.resolve(phone!.did)).status).toBe('offline'); // two missed
    await phone!.client.heartbeat({ coa: '198.18.2.1:1000', groupModified: 0 });
    expect((await pc!.client.resolve(phone!.did)).status).toBe('online');
  });

  it('tells a subscribed proxy of CoA changes, coming online and going offline', async () => {
    const { devices } = await userWithDevices(server.url, 'watch@example.org', ['phone']);
    const phone = devices[0]!;
    const events: { status: string; coa: string | null }[] = [];
    const proxy = new NameServerClient({ url: server.url, auth: { serviceKey: SERVICE_KEY } });
    const watch = proxy.watchDevices([phone.did], (ev) => events.push({ status: ev.status, coa: ev.coa }));
    try {
      await watch.ready();
      await expect.poll(() => events.length).toBe(1); // the current state first
      await phone.client.heartbeat({ coa: '198.18.3.1:1', groupModified: 0 });
      await phone.client.heartbeat({ coa: '198.18.3.1:1', groupModified: 0 }); // unchanged: no event
      await phone.client.heartbeat({ coa: '198.18.3.2:2', groupModified: 0 });
      await expect.poll(() => events.length).toBe(3);
      await expect.poll(() => events.length, { timeout: 3000 }).toBe(4);
      expect(events).toEqual([
        { status: 'offline', coa: null },
        { status: 'online', coa: '198.18.3.1:1' },
        { status: 'online', coa: '198.18.3.2:2' },
        { status: 'offline', coa: '198.18.3.2:2' },
      ]);
    } finally {
      watch.close();
    }
  });
});

describe('push channel', () => {
  let server: NameServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('delivers a pushed Migration-To-Request to the agent, byte for byte', async () => {
    const { devices } = await userWithDevices(server.url, 'push@example.org', ['phone', 'pc']);
    const agent = devices[0]!.client.openPush();
    try {
      await agent.ready();
      const proxy = new NameServerClient({ url: server.url, auth: { serviceKey: SERVICE_KEY } });
      const msg = { type: 'migration' as const, migration: 'm1', connection: 'c1', ticket: 'tk', proxy: '127.0.0.1:1080', destination: 'example.org:443', snapshot: { offset: 42, note: 'é✓' } };
      const got = nextMessage(agent, (m) => m.type === 'migration');
      const res = await proxy.pushMigration(devices[0]!.did, msg);
      expect(res.delivered).toBe('local');
      expect(await got).toEqual({ ...msg, id: res.id, from: 'service' });
      // A device of the same user may push too.
      const got2 = nextMessage(agent, (m) => m.type === 'hello-from-pc');
      await devices[1]!.client.push(devices[0]!.did, { type: 'hello-from-pc' });
      expect(await got2).toMatchObject({ from: devices[1]!.did });
    } finally {
      agent.close();
    }
  });

  it('says when no agent is connected, and refuses oversized messages', async () => {
    const { devices } = await userWithDevices(server.url, 'nopush@example.org', ['phone']);
    const proxy = new NameServerClient({ url: server.url, auth: { serviceKey: SERVICE_KEY } });
    await expect(proxy.push(devices[0]!.did, { type: 'migration' })).rejects.toMatchObject({ status: 409, code: 'ERR_AGENT_NOT_CONNECTED' });
    await expect(proxy.push(devices[0]!.did, { type: 'migration', pad: 'x'.repeat(8000) })).rejects.toMatchObject({ status: 413 });
    // Types the name server itself sends cannot be forged through a push.
    for (const type of ['hello', 'revoked', 'coa']) await expect(proxy.push(devices[0]!.did, { type })).rejects.toMatchObject({ status: 400 });
  });

  it('refuses bad credentials and users on the WebSocket', async () => {
    const { devices } = await userWithDevices(server.url, 'wsauth@example.org', ['phone']);
    const url = server.url.replace('http', 'ws') + '/v1/push';
    const status = (authorization: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, { headers: { authorization } });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => {});
      });
    expect(await status(basicHeader(devices[0]!.did, 'wrong'))).toBe(401);
    expect(await status(basicHeader('wsauth@example.org', PASSWORD))).toBe(401); // users have no push channel
    expect(await status('Bearer nope')).toBe(401);
    expect(await status(basicHeader(devices[0]!.did, devices[0]!.token))).toBe(101);
  });

  it('tells the agent when its device is revoked, then closes its session', async () => {
    const { user, devices } = await userWithDevices(server.url, 'revpush@example.org', ['phone']);
    const agent = devices[0]!.client.openPush();
    try {
      await agent.ready();
      const got = nextMessage(agent, (m) => m.type === 'revoked');
      const closed = new Promise<void>((r) => agent.once('close', () => r()));
      await user.revokeDevice(devices[0]!.did);
      expect(await got).toEqual({ type: 'revoked', did: devices[0]!.did });
      await closed;
      await expect.poll(() => server.hub.agentSessions(devices[0]!.did)).toBe(0);
      expect(agent.revoked).toBe(true); // and it does not try again
      expect(agent.state).toBe('stopped');
    } finally {
      agent.close();
    }
  });
});

describe('push reconnect', () => {
  it('the agent reconnects with backoff after the name server restarts, and receives pushes again', async () => {
    const tmp = tempDir();
    const db = join(tmp.dir, 'names.db');
    let server = await startTestServer({ db });
    const port = server.port;
    const { devices } = await userWithDevices(server.url, 'recon@example.org', ['phone']);
    const agent = devices[0]!.client.openPush({ minBackoffMs: 50, maxBackoffMs: 400 });
    try {
      await agent.ready();
      let closes = 0;
      agent.on('close', () => closes++);
      await server.close();
      await expect.poll(() => closes).toBe(1);
      await sleep(300); // a few failed attempts while the server is down
      expect(['connecting', 'waiting']).toContain(agent.state);
      server = await startTestServer({ db, port });
      await agent.ready(5000);
      const proxy = new NameServerClient({ url: server.url, auth: { serviceKey: SERVICE_KEY } });
      const got = nextMessage(agent, (m) => m.type === 'migration');
      await expect.poll(async () => (await proxy.push(devices[0]!.did, { type: 'migration', ticket: 'again' }).catch(() => null))?.delivered).toBe('local');
      expect(await got).toMatchObject({ ticket: 'again' });
    } finally {
      agent.close();
      await server.close();
      tmp.cleanup();
    }
  });
});

describe('push backpressure', () => {
  it('closes an agent session that stops reading once its unsent bytes pass the bound', async () => {
    const server = await startTestServer({ pushMaxBufferedBytes: 64 * 1024 });
    try {
      const { devices } = await userWithDevices(server.url, 'slow@example.org', ['phone']);
      const ws = new WebSocket(server.url.replace('http', 'ws') + '/v1/push', { headers: { authorization: basicHeader(devices[0]!.did, devices[0]!.token) } });
      await new Promise<void>((resolve, reject) => {
        ws.once('message', () => resolve());
        ws.once('error', reject);
      });
      // Stop reading: the kernel buffers fill, then the server's send queue grows.
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const proxy = new NameServerClient({ url: server.url, auth: { serviceKey: SERVICE_KEY } });
      const pad = 'x'.repeat(7000);
      let sent = 0;
      while (server.hub.agentSessions(devices[0]!.did) > 0 && sent < 5000) {
        await proxy.push(devices[0]!.did, { type: 'bulk', pad }).catch(() => null);
        sent++;
      }
      expect(server.hub.agentSessions(devices[0]!.did)).toBe(0);
      expect(sent).toBeGreaterThan(10); // the kernel's buffers fill first: the bound, not a fluke, closed it
      expect(sent).toBeLessThan(5000);
      ws.terminate();
    } finally {
      await server.close();
    }
  });
});
