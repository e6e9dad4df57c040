/** The HTTP API over real HTTP on 127.0.0.1: validation, errors, authentication and authorisation. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NameServer } from '../../src/names/name-server.js';
import { NameServerClient } from '../../src/names/client/name-server-client.js';
import { NameServerHttpError } from '../../src/names/errors.js';
import { PASSWORD, SERVICE_KEY, startTestServer, userWithDevices } from './helpers.js';
import * as schemas from '../../src/names/api/schemas.js';

let server: NameServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.close());

async function raw(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(server.url + path, { method, body, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function codeOf(p: Promise<unknown>): Promise<[number, string]> {
  try {
    await p;
  } catch (err) {
    if (err instanceof NameServerHttpError) return [err.status, err.code];
    throw err;
  }
  throw new Error('expected the request to fail');
}

describe('name server API', () => {
  it('serves an OpenAPI document that lists every route', async () => {
    const { status, json } = await raw('GET', '/v1/openapi.json');
    expect(status).toBe(200);
    expect(json.openapi).toBe('3.1.0');
    for (const p of ['/v1/users', '/v1/heartbeat', '/v1/sync', '/v1/push/{did}', '/v1/devices/{did}', '/v1/pairings/claim']) expect(json.paths[p]).toBeDefined();
    expect(json.paths['/v1/users'].post.requestBody.content['application/json'].schema.properties.uid).toBeDefined();
    expect(Object.keys(json.paths['/v1/devices/{did}'].get.responses['200'].content['application/json'].schema.properties).sort()).toEqual(['agent', 'coa', 'did', 'lastSeen', 'status']);
  });

  it('registers a user and a device, and returns the token once', async () => {
    const { user, devices } = await userWithDevices(server.url, 'bob@example.org', ['phone']);
    expect(devices[0]!.did).toBe('phone.bob@example.org');
    expect(devices[0]!.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const list = await user.listDevices('bob@example.org');
    expect(list).toEqual([{ name: 'phone', did: 'phone.bob@example.org', status: 'offline', coa: null, lastSeen: null, agent: { push: '/v1/push/phone.bob%40example.org', control: null } }]);
    expect(JSON.stringify(list)).not.toContain(devices[0]!.token);
    expect(await codeOf(user.addDevice('bob@example.org', 'phone'))).toEqual([409, 'ERR_CONFLICT']);
    expect(await codeOf(new NameServerClient({ url: server.url }).registerUser('bob@example.org', PASSWORD))).toEqual([409, 'ERR_CONFLICT']);
  });

  it('answers unknown users and wrong passwords with the same 401', async () => {
    const unknown = await raw('GET', '/v1/users/nobody%40example.org/devices', undefined, { authorization: `Basic ${Buffer.from(`nobody@example.org:${PASSWORD}`).toString('base64')}` });
    const wrong = await raw('GET', '/v1/users/bob%40example.org/devices', undefined, { authorization: `Basic ${Buffer.from('bob@example.org:wrong password').toString('base64')}` });
    expect(unknown).toEqual({ status: 401, json: { error: { code: 'ERR_UNAUTHORIZED', message: 'invalid credentials' } } });
    expect(wrong).toEqual(unknown);
    expect((await raw('GET', '/v1/users/bob%40example.org/devices')).status).toBe(401);
    expect((await raw('GET', '/v1/users/bob%40example.org/devices', undefined, { authorization: 'Bearer not-the-key' })).status).toBe(401);
  });

  it('refuses malformed, invalid and oversized bodies with 400 and 413', async () => {
    expect(await raw('POST', '/v1/users', '{"uid": ')).toMatchObject({ status: 400, json: { error: { code: 'ERR_BAD_REQUEST' } } });
    expect(await raw('POST', '/v1/users', '{"uid": "not-an-email", "password": "long enough"}')).toMatchObject({ status: 400, json: { error: { code: 'ERR_BAD_REQUEST' } } });
    expect(await raw('POST', '/v1/users', '{"uid": "x@y.z", "password": "short"}')).toMatchObject({ status: 400 });
    expect(await raw('POST', '/v1/users', '[1,2]')).toMatchObject({ status: 400 });
    const big = JSON.stringify({ uid: 'x@y.z', password: 'p'.repeat(70_000) });
    expect(await raw('POST', '/v1/users', big)).toMatchObject({ status: 413, json: { error: { code: 'ERR_PAYLOAD_TOO_LARGE' } } });
    expect(await raw('GET', '/v1/nothing')).toMatchObject({ status: 404, json: { error: { code: 'ERR_NOT_FOUND' } } });
  });

  it('lets a device act only for its own user', async () => {
    const bob = await userWithDevices(server.url, 'bob2@example.org', ['pc']);
    const eve = await userWithDevices(server.url, 'eve@example.org', ['pc']);
    const evePc = eve.devices[0]!.client;
    expect(await codeOf(evePc.addDevice('bob2@example.org', 'evil'))).toEqual([403, 'ERR_FORBIDDEN']);
    expect(await codeOf(evePc.listDevices('bob2@example.org'))).toEqual([403, 'ERR_FORBIDDEN']);
    expect(await codeOf(evePc.resolve('pc.bob2@example.org'))).toEqual([403, 'ERR_FORBIDDEN']);
    expect(await codeOf(evePc.revokeDevice('pc.bob2@example.org'))).toEqual([404, 'ERR_NOT_FOUND']);
    expect(await codeOf(evePc.push('pc.bob2@example.org', { type: 'migration' }))).toEqual([404, 'ERR_NOT_FOUND']);
    // Agent endpoints take device credentials only (no password check there).
    expect(await codeOf(bob.user.heartbeat({ coa: null, groupModified: 0 }))).toEqual([401, 'ERR_UNAUTHORIZED']);
    // Bob's own device may add a device for Bob.
    expect((await bob.devices[0]!.client.addDevice('bob2@example.org', 'tablet')).did).toBe('tablet.bob2@example.org');
  });

  it('resolves a DID for the same user, a proxy, and nobody else', async () => {
    const { devices } = await userWithDevices(server.url, 'res@example.org', ['phone', 'pc']);
    const hb = await devices[0]!.client.heartbeat({ coa: '198.18.1.1:5000', control: '127.0.0.1:7100', groupModified: 0 });
    expect(schemas.heartbeatReply.strict().parse(hb)).toEqual(hb); // the reply is what the OpenAPI document says
    const r = await devices[1]!.client.resolve(devices[0]!.did);
    expect(schemas.resolutionSchema.strict().parse(r)).toEqual(r);
    expect(r).toMatchObject({ did: devices[0]!.did, status: 'online', coa: '198.18.1.1:5000', agent: { control: '127.0.0.1:7100' } });
    expect(Date.parse(r.lastSeen!)).toBeGreaterThan(Date.now() - 5000);
    const proxy = new NameServerClient({ url: server.url, auth: { serviceKey: SERVICE_KEY } });
    expect((await proxy.resolve(devices[0]!.did)).coa).toBe('198.18.1.1:5000');
    expect(await codeOf(proxy.resolve('nope.res@example.org'))).toEqual([404, 'ERR_NOT_FOUND']);
  });

  it('checks device tokens for proxies and forgets revoked devices', async () => {
    const { user, devices } = await userWithDevices(server.url, 'rev@example.org', ['phone']);
    const anon = new NameServerClient({ url: server.url });
    expect(await anon.verifyDevice(devices[0]!.did, devices[0]!.token)).toEqual({ uid: 'rev@example.org', device: 'phone', did: devices[0]!.did });
    expect(await anon.verifyDevice(devices[0]!.did, devices[0]!.token.slice(1))).toBeNull();
    await user.revokeDevice(devices[0]!.did);
    expect(await anon.verifyDevice(devices[0]!.did, devices[0]!.token)).toBeNull();
    expect(await codeOf(devices[0]!.client.heartbeat({ coa: null, groupModified: 0 }))).toEqual([401, 'ERR_UNAUTHORIZED']);
  });

  it('refuses a revoked device at once although its credentials were just verified (credential cache)', async () => {
    const { user, devices } = await userWithDevices(server.url, 'cache@example.org', ['phone', 'pc']);
    const hb = { coa: '198.18.2.1:1', groupModified: 0 };
    expect((await devices[0]!.client.heartbeat(hb)).devices).toHaveLength(2);
    expect((await devices[0]!.client.heartbeat(hb)).devices).toHaveLength(2); // the cached path
    expect((await devices[1]!.client.resolve(devices[0]!.did)).coa).toBe('198.18.2.1:1');
    await devices[1]!.client.revokeDevice(devices[0]!.did);
    expect(await codeOf(devices[0]!.client.heartbeat(hb))).toEqual([401, 'ERR_UNAUTHORIZED']);
    expect(await codeOf(devices[0]!.client.resolve(devices[1]!.did))).toEqual([401, 'ERR_UNAUTHORIZED']);
    // A right password is remembered, a wrong one never is.
    expect((await user.listDevices('cache@example.org')).map((d) => d.name)).toEqual(['pc']);
    const wrong = new NameServerClient({ url: server.url, auth: { uid: 'cache@example.org', password: `${PASSWORD}x` } });
    expect(await codeOf(wrong.listDevices('cache@example.org'))).toEqual([401, 'ERR_UNAUTHORIZED']);
  });

  it('pairs a new device with a single-use code', async () => {
    const { devices } = await userWithDevices(server.url, 'pair@example.org', ['pc']);
    const { code, expiresAt } = await devices[0]!.client.createPairing();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(4 * 60_000);
    const anon = new NameServerClient({ url: server.url });
    expect(await codeOf(anon.claimPairing('other@example.org', code, 'tab'))).toEqual([401, 'ERR_UNAUTHORIZED']);
    const joined = await anon.claimPairing('pair@example.org', code.toLowerCase(), 'tab');
    expect(joined.did).toBe('tab.pair@example.org');
    expect(await anon.verifyDevice(joined.did, joined.token)).not.toBeNull();
    expect(await codeOf(anon.claimPairing('pair@example.org', code, 'tab2'))).toEqual([401, 'ERR_UNAUTHORIZED']);
    expect(await codeOf(anon.claimPairing('pair@example.org', 'UUUU-UUUU', 'tab3'))).toEqual([400, 'ERR_BAD_REQUEST']);
  });
});

describe('rate limits', () => {
  it('limits password endpoints per address with 429', async () => {
    const limited = await startTestServer({ rateLimits: { password: { max: 3, timeWindow: 60_000 }, verify: { max: 3, timeWindow: 60_000 }, mixed: { max: 3, timeWindow: 60_000 } } });
    try {
      const anon = new NameServerClient({ url: limited.url });
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push(await codeOf(anon.registerUser(`u${i}@example.org`, 'x')).then(([s]) => s));
      expect(codes).toEqual([400, 400, 400, 429, 429]);
      const proxy = anon.withAuth({ serviceKey: SERVICE_KEY });
      for (let i = 0; i < 5; i++) expect(await proxy.verifyDevice('pc.a@example.org', 'x')).toBeNull();
      expect(await codeOf(anon.verifyDevice('pc.a@example.org', 'x').then(() => anon.verifyDevice('pc.a@example.org', 'x')).then(() => anon.verifyDevice('pc.a@example.org', 'x')).then(() => anon.verifyDevice('pc.a@example.org', 'x')))).toEqual([429, 'ERR_RATE_LIMITED']);
      // Resolution takes a password too, so it is bounded; proxies with the service key are not.
      const guesser = anon.withAuth({ uid: 'u0@example.org', password: 'guess' });
      const resolves: number[] = [];
      for (let i = 0; i < 4; i++) resolves.push(await codeOf(guesser.resolve('pc.u0@example.org')).then(([st]) => st));
      expect(resolves).toEqual([401, 401, 401, 429]);
      for (let i = 0; i < 4; i++) expect(await codeOf(proxy.resolve('pc.u0@example.org'))).toEqual([404, 'ERR_NOT_FOUND']);
    } finally {
      await limited.close();
    }
  });
});
