import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/logger.js';
import type { NameServer } from '../../src/names/name-server.js';
import { NameServerAuthenticator } from '../../src/proxy/auth/nameserver-authenticator.js';
import { wireNameServer } from '../../src/proxy/auth/nameserver-wiring.js';
import { Proxy } from '../../src/proxy/proxy.js';
import { nextMessage, SERVICE_KEY, startTestServer, userWithDevices } from '../names/helpers.js';
import { collect, until } from '../support/proxy-harness.js';
import { socksConnect } from '../support/socks-client.js';
import { startStreamServer, type StreamServer } from '../support/stream-server.js';

let names: NameServer | undefined;
let proxy: Proxy | undefined;
let server: StreamServer | undefined;
afterEach(async () => {
  await proxy?.close();
  await server?.close();
  await names?.close();
  names = proxy = server = undefined;
});

describe('proxy on a name server', () => {
  it('pushes the Migration-To-Request to the target agent and follows the holder’s care-of address', async () => {
    names = await startTestServer();
    const { devices } = await userWithDevices(names.url, 'bob@example.org', ['phone', 'pc']);
    const [phone, pc] = devices as [(typeof devices)[0], (typeof devices)[0]];
    const authenticator = NameServerAuthenticator.fromUrl(names.url, { serviceKey: SERVICE_KEY });
    proxy = new Proxy({ listen: { host: '127.0.0.1', port: 0 }, control: { host: '127.0.0.1', port: 0 } }, { authenticator });
    const bound = await proxy.start();
    wireNameServer(proxy, authenticator, bound.listen, silentLogger);
    const control = `http://127.0.0.1:${bound.control!.port}`;
    const auth = { authorization: `Basic ${Buffer.from(`${phone.did}:${phone.token}`).toString('base64')}` };

    server = await startStreamServer({ total: 2 ** 40, chunk: 4096, intervalMs: 5 });
    const a = await socksConnect(bound.listen.port, phone.did, phone.token, '127.0.0.1', server.port);
    collect(a.socket);
    // The phone moves to another network: its heartbeat carries the new care-of address.
    await until(async () => {
      await phone.client.heartbeat({ coa: '198.18.7.7:40000', groupModified: 0 });
      const list = (await (await fetch(`${control}/v1/connections`, { headers: auth })).json()) as { connections: { holderCoa?: string }[] };
      return list.connections[0]?.holderCoa === '198.18.7.7:40000';
    }, 15_000, 'the proxy to learn the new CoA');

    const pcPush = pc.client.openPush();
    await pcPush.ready();
    const { connections } = (await (await fetch(`${control}/v1/connections`, { headers: auth })).json()) as { connections: { id: string }[] };
    const pushed = nextMessage(pcPush, (m) => m.type === 'migration');
    const res = await fetch(`${control}/v1/connections/${connections[0]!.id}/migrate`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ to: 'pc' }),
    });
    const m = (await res.json()) as { id: string; ticket: string };
    const msg = (await pushed) as unknown as Record<string, unknown>;
    expect(msg).toMatchObject({ type: 'migration', migration: m.id, ticket: m.ticket, fromDevice: phone.did, destination: `127.0.0.1:${server.port}` });
    pcPush.close();
  });
});
