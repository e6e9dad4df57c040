import { afterEach, describe, expect, it } from 'vitest';
import type { AgentDaemon } from '../../src/agent/daemon/agent-daemon.js';
import { connectViaProxy } from '../../src/agent/proxy-client/connect-via-proxy.js';
import { payload, readAll, sha256 } from './helpers/sockets.js';
import { startSlowHttpServer } from './helpers/servers.js';
import { startStack, type Stack } from './helpers/stack.js';

let stack: Stack | undefined;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await stack?.close();
  stack = undefined;
});

async function until(what: string, probe: () => unknown, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Downloads through the proxy as the phone, moves the connection to the PC, checks the bytes. */
async function moveDownload(s: Stack, phone: AgentDaemon, pc: AgentDaemon, file: string): Promise<void> {
  const http = await startSlowHttpServer(payload(200_000), { chunk: 4096, intervalMs: 5 });
  cleanups.push(http.close);
  const tunnel = await connectViaProxy('127.0.0.1', http.port, { proxy: s.proxyAddr.listen, did: s.devices.phone!.did, token: s.devices.phone!.token });
  const got: Buffer[] = [];
  tunnel.socket.on('data', (c: Buffer) => got.push(c));
  tunnel.socket.resume();
  tunnel.socket.write('GET / HTTP/1.0\r\n\r\n');
  await until('the first bytes', () => Buffer.concat(got).length > 10_000);
  const conn = (await phone.control!.listConnections()).find((c) => c.destination.endsWith(`:${http.port}`))!;
  const result = await phone.move(conn.id, 'pc', { handler: `file:${file}` });
  expect(result.state).toBe('done');
  tunnel.socket.destroy();
  await until('the PC handler', () => pc.state.migrations.some((m) => m.direction === 'incoming' && m.state === 'handled'));
  const { readFileSync } = await import('node:fs');
  expect(sha256(Buffer.concat([...got, readFileSync(file)]))).toBe(sha256(http.response));
}

describe('agent failure cases', () => {
  it('survives the name server restarting: heartbeats and the push channel come back, and migrations still arrive', async () => {
    stack = await startStack(['phone', 'pc']);
    const phone = await stack.agent('phone');
    const pc = await stack.agent('pc');
    await stack.stopNameServer();
    await pc.heartbeatNow();
    expect(pc.state.status.nameserver).toBe('unreachable');
    await until('the push channel to drop', () => pc.state.status.push === 'closed');
    await stack.startNameServer();
    await until('heartbeats to succeed again', () => pc.state.status.nameserver === 'ok' && phone.state.status.nameserver === 'ok');
    await until('the push channel to reopen', () => pc.state.status.push === 'open');
    await moveDownload(stack, phone, pc, `${stack.dir}/after-ns-restart.bin`);
  });

  it('survives the proxy restarting: reports it unreachable, then serves SOCKS and migrations through the new one', async () => {
    stack = await startStack(['phone', 'pc']);
    const phone = await stack.agent('phone', { socks: true });
    const pc = await stack.agent('pc');
    await stack.proxy.close();
    await phone.refreshConnections();
    expect(phone.state.status.proxy).toBe('unreachable');
    // Through the local endpoint, a proxy that is down is a SOCKS failure reply, not a hang.
    await expect(connectViaProxy('127.0.0.1', 9, { proxy: phone.socksAddress! })).rejects.toMatchObject({ code: 'ERR_SOCKS_CONNECT', reply: 1 });
    await stack.restartProxy();
    await until('the proxy to be seen again', () => phone.state.status.proxy === 'ok');
    const http = await startSlowHttpServer(payload(100_000), { chunk: 65536, intervalMs: 1 });
    cleanups.push(http.close);
    const viaEndpoint = await connectViaProxy('127.0.0.1', http.port, { proxy: phone.socksAddress! });
    const body = readAll(viaEndpoint.socket);
    viaEndpoint.socket.resume();
    viaEndpoint.socket.write('GET / HTTP/1.0\r\n\r\n');
    expect(sha256(await body)).toBe(sha256(http.response));
    await moveDownload(stack, phone, pc, `${stack.dir}/after-proxy-restart.bin`);
  });
});
