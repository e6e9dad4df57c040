import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyControlClient } from '../../src/agent/daemon/proxy-control-client.js';

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

describe('proxy control client', () => {
  it('sends the migration request on the connection the connection list opened (no second handshake)', async () => {
    let connections = 0;
    const seen: string[] = [];
    server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/v1/connections') res.end(JSON.stringify({ connections: [] }));
        else res.writeHead(202).end(JSON.stringify({ id: 'm1', state: 'waiting', phases: {} }));
      });
    });
    server.on('connection', () => connections++);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const client = new ProxyControlClient({ control: `127.0.0.1:${port}`, did: 'pc.bob@example.org', token: 'tok' });
    await client.listConnections();
    const m = await client.migrate('c1', 'phone');
    expect(m.id).toBe('m1');
    expect(seen).toEqual(['GET /v1/connections', 'POST /v1/connections/c1/migrate']);
    // One TCP connection for both: the request costs one trip to the proxy, not a handshake first.
    expect(connections).toBe(1);
  });
});
