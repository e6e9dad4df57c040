/**
 * RPC over the push channel (docs/names.md, "RPC over the push channel"), over a real WebSocket:
 * `resolve` and `heartbeat` give what the HTTP endpoints give under the same rules, many requests
 * in flight answered by id, and bad input (not JSON, wrong envelope, binary, oversized, too many
 * in flight) closes the session with an error frame. Run on SQLite and, when reachable, PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import { NameServer } from '../../src/names/name-server.js';
import { NameServerClient } from '../../src/names/client/name-server-client.js';
import { PushSubscriber } from '../../src/names/client/push-subscriber.js';
import { resolutionSchema, heartbeatReply } from '../../src/names/api/schemas.js';
import { nextMessage, SERVICE_KEY, startTestServer, userWithDevices } from './helpers.js';
import { dropSchema, newSchema, PG_URL, pgReachable } from './pg-support.js';
import { deviceAuth, openRaw } from './rpc-support.js';

const reachable = await pgReachable();
if (!reachable) process.stderr.write(`PostgreSQL not reachable at ${PG_URL.replace(/:[^:@/]*@/, ':***@')}: skipping the PostgreSQL RPC tests (run scripts/ci-names.sh)\n`);

const sha = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex');

function rpcSuite(label: string, start: () => Promise<NameServer>, cleanup: () => Promise<void> = async () => {}) {
  describe(`RPC over the push channel (${label})`, () => {
    let server: NameServer;
    beforeAll(async () => {
      server = await start();
    });
    afterAll(async () => {
      await server?.close();
      await cleanup();
    });

    it('resolve answers what GET /v1/devices/{did} answers, with the same authorisation rules', async () => {
      const alice = await userWithDevices(server.url, `alice-${label.toLowerCase()}@example.org`, ['phone', 'pc']);
      const bob = await userWithDevices(server.url, `bob-${label.toLowerCase()}@example.org`, ['phone']);
      const carol = await userWithDevices(server.url, `carol-${label.toLowerCase()}@example.org`, ['phone']);
      const [phone, pc] = alice.devices;
      await phone!.client.heartbeat({ coa: '198.18.5.1:4000', control: '198.18.5.1:4001', groupModified: 0 });
      // Bob becomes Alice's friend; Carol does not.
      const intro = await phone!.client.introduce(`bob-${label.toLowerCase()}@example.org`);
      await bob.devices[0]!.client.confirmIntroduction(intro.id);

      const s = await openRaw(server.url, deviceAuth(pc!.did, pc!.token));
      expect(s.hello).toMatchObject({ type: 'hello', role: 'agent', did: pc!.did, rpc: { methods: ['resolve', 'heartbeat'] } });
      const viaHttp = await pc!.client.resolve(phone!.did);
      const r = await s.request(1, 'resolve', { did: phone!.did });
      expect(r.type).toBe('rpc-result');
      expect(resolutionSchema.parse(r.result)).toEqual(r.result);
      expect(sha(r.result)).toBe(sha(viaHttp)); // the same document, field for field
      expect(r.result).toMatchObject({ status: 'online', coa: '198.18.5.1:4000', agent: { control: '198.18.5.1:4001' } });

      // A friend may resolve; someone else's device is refused as over HTTP; unknown is 404.
      const b = await openRaw(server.url, deviceAuth(bob.devices[0]!.did, bob.devices[0]!.token));
      expect((await b.request('f', 'resolve', { did: phone!.did })).result).toMatchObject({ did: phone!.did, status: 'online' });
      const c = await openRaw(server.url, deviceAuth(carol.devices[0]!.did, carol.devices[0]!.token));
      const refused = await c.request(7, 'resolve', { did: phone!.did });
      await expect(carol.devices[0]!.client.resolve(phone!.did)).rejects.toMatchObject({ status: 403, code: 'ERR_FORBIDDEN' });
      expect(refused).toEqual({ type: 'rpc-error', id: 7, error: { code: 'ERR_FORBIDDEN', status: 403, message: expect.any(String) } });
      expect((await c.request(8, 'resolve', { did: `nobody.carol-${label.toLowerCase()}@example.org` })).error).toMatchObject({ status: 404, code: 'ERR_NOT_FOUND' });
      // A request error is an answer, not a reason to close: the session still serves.
      expect((await c.request(9, 'resolve', { did: carol.devices[0]!.did })).type).toBe('rpc-result');
      for (const x of [s, b, c]) x.ws.close();
    });

    it('heartbeat records presence, answers as POST /v1/heartbeat does and signals must-sync', async () => {
      const { devices } = await userWithDevices(server.url, `hb-${label.toLowerCase()}@example.org`, ['phone', 'pc']);
      const [phone, pc] = devices;
      const events: { coa: string | null }[] = [];
      const proxy = new NameServerClient({ url: server.url, auth: { serviceKey: SERVICE_KEY } });
      const watch = proxy.watchDevices([phone!.did], (ev) => events.push({ coa: ev.coa }));
      await watch.ready();
      await expect.poll(() => events.length).toBe(1);

      const s = await openRaw(server.url, deviceAuth(phone!.did, phone!.token));
      const r = await s.request(1, 'heartbeat', { coa: '198.18.6.1:4000', groupModified: 0 });
      expect(r.type).toBe('rpc-result');
      const reply = heartbeatReply.parse(r.result);
      expect(reply.mustSync).toBe(false); // empty group, nothing to sync
      expect(reply.devices.map((d) => [d.did, d.status, d.coa])).toEqual([
        [pc!.did, 'offline', null],
        [phone!.did, 'online', '198.18.6.1:4000'],
      ]);
      await expect.poll(() => events.at(-1)?.coa).toBe('198.18.6.1:4000'); // the proxy heard of the new CoA
      expect((await pc!.client.resolve(phone!.did)).coa).toBe('198.18.6.1:4000');

      // The group changes (pc adds a name): a heartbeat with the old timestamp must sync.
      await pc!.client.sync(0, [{ id: 'rpc-entry-1', ts: Date.now(), origin: pc!.did, op: 'set', key: 'un:friend', value: 'friend@example.org' }]);
      const stale = heartbeatReply.parse((await s.request(2, 'heartbeat', { coa: '198.18.6.1:4000', groupModified: 0 })).result);
      expect(stale.mustSync).toBe(true);
      const fresh = heartbeatReply.parse((await s.request(3, 'heartbeat', { coa: '198.18.6.1:4000', groupModified: stale.groupModified })).result);
      expect(fresh.mustSync).toBe(false);
      // The same answer as HTTP gives the same device at the same moment, but for lastSeen.
      const viaHttp = await phone!.client.heartbeat({ coa: '198.18.6.1:4000', groupModified: stale.groupModified });
      const strip = (x: typeof fresh) => ({ ...x, devices: x.devices.map((d) => ({ ...d, lastSeen: null })) });
      expect(strip(viaHttp)).toEqual(strip(fresh));

      // A proxy's session may resolve but not heartbeat; bad params are a 400 answer.
      const p = await openRaw(server.url, `Bearer ${SERVICE_KEY}`);
      expect(p.hello).toMatchObject({ role: 'proxy', rpc: { methods: ['resolve', 'heartbeat'] } });
      expect((await p.request(1, 'heartbeat', { coa: null, groupModified: 0 })).error).toMatchObject({ status: 403, code: 'ERR_FORBIDDEN' });
      expect((await p.request(2, 'resolve', { did: phone!.did })).result).toMatchObject({ did: phone!.did, coa: '198.18.6.1:4000' });
      expect((await s.request(4, 'heartbeat', { coa: 5, groupModified: 0 })).error).toMatchObject({ status: 400, code: 'ERR_BAD_REQUEST' });
      expect((await s.request(5, 'resolve', { did: 'not a did' })).error).toMatchObject({ status: 400, code: 'ERR_BAD_REQUEST' });
      expect((await s.request(6, 'migrate', {})).error).toMatchObject({ status: 400, code: 'ERR_BAD_REQUEST' });
      watch.close();
      s.ws.close();
      p.ws.close();
    });

    it('answers many requests in flight on one session, each once, by id', async () => {
      const { devices } = await userWithDevices(server.url, `many-${label.toLowerCase()}@example.org`, ['phone', 'pc']);
      const [phone, pc] = devices;
      const s = await openRaw(server.url, deviceAuth(phone!.did, phone!.token));
      const n = 200;
      const sent: Promise<Record<string, unknown>>[] = [];
      for (let i = 0; i < n; i++) {
        sent.push(i % 2 ? s.request(i, 'resolve', { did: pc!.did }) : s.request(i, 'heartbeat', { coa: `198.18.7.${i % 250}:1`, groupModified: 0 }));
      }
      const answers = await Promise.all(sent);
      expect(answers.map((a) => a.type)).toEqual(Array(n).fill('rpc-result'));
      expect(answers.map((a) => a.id)).toEqual([...Array(n).keys()]);
      const ids = s.frames.filter((f) => f.type === 'rpc-result').map((f) => f.id as number);
      expect(ids.slice().sort((a, b) => a - b)).toEqual([...Array(n).keys()]); // each exactly once
      s.ws.close();
    });
  });
}

rpcSuite('SQLite', () => startTestServer());

describe.skipIf(!reachable)('PostgreSQL', () => {
  const schema = newSchema('tsmp_rpc');
  rpcSuite('PostgreSQL', () => startTestServer({ db: PG_URL, schema }), () => dropSchema(schema));
});

describe('RPC: bad input closes the session with a clear error', () => {
  let server: NameServer;
  let device: { did: string; token: string };
  beforeAll(async () => {
    server = await startTestServer({ pushMaxPayload: 4096, rpcMaxInFlight: 4 });
    device = (await userWithDevices(server.url, 'bad@example.org', ['phone'])).devices[0]!;
  });
  afterAll(async () => server.close());

  const open = () => openRaw(server.url, deviceAuth(device.did, device.token));

  it.each([
    ['not JSON', '{"type":"rpc",', 'ERR_BAD_REQUEST'],
    ['no type', JSON.stringify({ id: 1, method: 'resolve', params: {} }), 'ERR_BAD_REQUEST'],
    ['an id that is an object', JSON.stringify({ type: 'rpc', id: { x: 1 }, method: 'resolve', params: {} }), 'ERR_BAD_REQUEST'],
    ['an unknown frame type', JSON.stringify({ type: 'hello' }), 'ERR_BAD_REQUEST'],
    ['a subscription from a device', JSON.stringify({ type: 'subscribe', dids: [] }), 'ERR_FORBIDDEN'],
  ])('%s', async (_what, frame, code) => {
    const s = await open();
    s.ws.send(frame);
    expect(await s.closed).toEqual({ code: 1008, reason: code });
    expect(s.frames).toEqual([{ type: 'error', code, message: expect.any(String) }]);
    await expect.poll(() => server.hub.agentSessions(device.did)).toBe(0);
  });

  it('a binary frame', async () => {
    const s = await open();
    s.ws.send(Buffer.from('{"type":"rpc"}'), { binary: true });
    expect((await s.closed).code).toBe(1008);
    expect(s.frames[0]).toMatchObject({ type: 'error', code: 'ERR_BAD_REQUEST' });
  });

  it('a frame over the configured size (1009, from ws), and the hello says the bound', async () => {
    const s = await open();
    expect(s.hello.rpc).toEqual({ methods: ['resolve', 'heartbeat'], maxInFlight: 4, maxMessageBytes: 4096 });
    s.ws.send(JSON.stringify({ type: 'rpc', id: 1, method: 'resolve', params: { did: device.did, pad: 'x'.repeat(5000) } }));
    expect((await s.closed).code).toBe(1009);
    expect(s.frames).toEqual([]);
  });

  it('more requests in flight than the bound', async () => {
    const s = await open();
    // One write, so the server reads all five before any heartbeat's group commit answers.
    const sock = (s.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    sock.cork();
    for (let i = 0; i < 5; i++) s.ws.send(JSON.stringify({ type: 'rpc', id: i, method: 'heartbeat', params: { coa: null, groupModified: 0 } }));
    sock.uncork();
    expect(await s.closed).toEqual({ code: 1008, reason: 'ERR_TOO_MANY_IN_FLIGHT' });
    expect(s.frames.find((f) => f.type === 'error')).toMatchObject({ code: 'ERR_TOO_MANY_IN_FLIGHT' });
  });

  it('a wrong token never opens a session', async () => {
    await expect(openRaw(server.url, deviceAuth(device.did, 'wrong'))).rejects.toThrow('HTTP 401');
  });
});

describe('the client library uses the channel when it is open, HTTP otherwise', () => {
  it('heartbeat and resolve go over RPC while the push channel is open, and fall back to HTTP', async () => {
    const server = await startTestServer();
    const spy = vi.spyOn(PushSubscriber.prototype, 'request');
    try {
      const { devices } = await userWithDevices(server.url, 'lib@example.org', ['phone', 'pc']);
      const phone = devices[0]!;
      expect(phone.client.rpcReady('heartbeat')).toBe(false);
      await phone.client.heartbeat({ coa: '198.18.8.1:1', groupModified: 0 }); // HTTP
      expect(spy).not.toHaveBeenCalled();
      const push = phone.client.openPush();
      await push.ready();
      expect(phone.client.rpcReady('heartbeat')).toBe(true);
      const reply = await phone.client.heartbeat({ coa: '198.18.8.2:1', groupModified: 0 });
      expect(reply.devices.find((d) => d.did === phone.did)?.coa).toBe('198.18.8.2:1');
      expect((await phone.client.resolve(devices[1]!.did)).did).toBe(devices[1]!.did);
      expect(spy).toHaveBeenCalledTimes(2);
      // A refusal over RPC is the same error class and code as over HTTP.
      await expect(phone.client.resolve('x.someone@example.org')).rejects.toMatchObject({ status: 404, code: 'ERR_NOT_FOUND' });
      // Pushes still arrive on the same session.
      const got = nextMessage(push, (m) => m.type === 'note');
      await devices[1]!.client.push(phone.did, { type: 'note', n: 1 });
      expect(await got).toMatchObject({ type: 'note', n: 1 });
      push.close();
      expect(phone.client.rpcReady('heartbeat')).toBe(false);
      expect((await phone.client.heartbeat({ coa: '198.18.8.3:1', groupModified: 0 })).devices.find((d) => d.did === phone.did)?.coa).toBe('198.18.8.3:1');
      expect(spy).toHaveBeenCalledTimes(3);
    } finally {
      spy.mockRestore();
      await server.close();
    }
  });
});

describe('RPC: resolve is rate-limited per device like GET /v1/devices/{did}', () => {
  it('a device gets 429 past the limit on every session of its own, the session stays open, and proxies are exempt', async () => {
    const limits = { max: 3, timeWindow: 60_000 };
    const server = await startTestServer({ rateLimits: { password: { max: 1000, timeWindow: 60_000 }, verify: { max: 1000, timeWindow: 60_000 }, mixed: limits } });
    try {
      const anon = new NameServerClient({ url: server.url });
      await anon.registerUser('rl@example.org', 'pw-rl-0123456789');
      const user = anon.withAuth({ uid: 'rl@example.org', password: 'pw-rl-0123456789' });
      const phone = await user.addDevice('rl@example.org', 'phone');
      const pc = await user.addDevice('rl@example.org', 'pc');
      const a = await openRaw(server.url, deviceAuth(phone.did, phone.token));
      const b = await openRaw(server.url, deviceAuth(phone.did, phone.token));
      const answers = [await a.request(1, 'resolve', { did: pc.did }), await b.request(2, 'resolve', { did: pc.did }), await a.request(3, 'resolve', { did: pc.did })];
      expect(answers.map((x) => x.type)).toEqual(['rpc-result', 'rpc-result', 'rpc-result']);
      // The fourth, on either session: the bucket is the device's, not the session's.
      expect(await b.request(4, 'resolve', { did: pc.did })).toMatchObject({ type: 'rpc-error', error: { status: 429, code: 'ERR_RATE_LIMITED' } });
      expect(await a.request(5, 'resolve', { did: 'nobody.rl@example.org' })).toMatchObject({ type: 'rpc-error', error: { status: 429 } });
      // Heartbeats are not resolutions, and the session is still open.
      expect((await a.request(6, 'heartbeat', { coa: '198.18.7.1:1', groupModified: 0 })).type).toBe('rpc-result');
      // Another device of the same user has its own bucket; a proxy has none.
      const p = await openRaw(server.url, deviceAuth(pc.did, pc.token));
      expect((await p.request(7, 'resolve', { did: phone.did })).type).toBe('rpc-result');
      const proxy = await openRaw(server.url, `Bearer ${SERVICE_KEY}`);
      for (let i = 0; i < 10; i++) expect((await proxy.request(100 + i, 'resolve', { did: pc.did })).type).toBe('rpc-result');
      for (const x of [a, b, p, proxy]) x.ws.close();
    } finally {
      await server.close();
    }
  });
});
