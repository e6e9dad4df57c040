import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentDaemon } from '../../src/agent/daemon/agent-daemon.js';
import type { MigrationRecord } from '../../src/agent/daemon/agent-state.js';
import { MigrationAwareApps } from '../../src/agent/app-api.js';
import { connectViaProxy } from '../../src/agent/proxy-client/connect-via-proxy.js';
import { payload, sha256 } from './helpers/sockets.js';
import { startEchoLineServer, startSlowHttpServer } from './helpers/servers.js';
import { startStack, type Stack } from './helpers/stack.js';

let stack: Stack | undefined;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await stack?.close();
  stack = undefined;
});

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function incoming(agent: AgentDaemon, final: MigrationRecord['state'][]): MigrationRecord | undefined {
  return agent.state.migrations.find((m) => m.direction === 'incoming' && final.includes(m.state));
}

describe('agent end to end: name server, proxy, two agents', () => {
  it('curl on the phone downloads through the agent; mid-download the rest moves to the PC file handler, byte-exact', async () => {
    stack = await startStack(['phone', 'pc']);
    const phone = await stack.agent('phone', { socks: true });
    const pc = await stack.agent('pc');
    const http = await startSlowHttpServer(payload(1024 * 1024), { chunk: 8192, intervalMs: 8 });
    cleanups.push(http.close);
    const phonePart = join(stack.dir, 'phone.part');
    const pcPart = join(stack.dir, 'pc.part');
    const socks = phone.socksAddress!;
    const curl = spawn('curl', ['-s', '-i', '--max-time', '30', '--socks5-hostname', `${socks.host}:${socks.port}`, `http://127.0.0.1:${http.port}/video.bin`, '-o', phonePart]);
    const curlExit = new Promise<number | null>((r) => curl.once('close', (code) => r(code)));
    cleanups.push(() => curl.kill('SIGKILL'));
    await until('the phone to get 150 KB', () => existsSync(phonePart) && statSync(phonePart).size > 150_000);
    const conn = await until('the connection at the proxy', async () => (await phone.control!.listConnections()).find((c) => c.destination === `127.0.0.1:${http.port}`));
    const phases: string[] = [];
    const result = await phone.move(conn.id.slice(0, 6), 'pc', { handler: `file:${pcPart}`, onUpdate: (m) => phases.push(m.state) });
    expect(result.state).toBe('done');
    expect(result.phases.requested).toBeLessThanOrEqual(result.phases.done!);
    const handled = await until('the PC to finish the stream', () => incoming(pc, ['handled', 'failed']));
    expect(handled.state).toBe('handled');
    expect(handled.handler).toBe(`file:${pcPart}`);
    // The phone's curl keeps what its TCP acknowledged; the proxy cuts it off after the move.
    await Promise.race([curlExit, new Promise((r) => setTimeout(r, 3000))]);
    curl.kill('SIGTERM');
    const got = Buffer.concat([readFileSync(phonePart), readFileSync(pcPart)]);
    expect(got.length).toBe(http.response.length);
    expect(sha256(got)).toBe(sha256(http.response));
    expect(readFileSync(pcPart).length).toBe(handled.outcome!.bytesIn);
  });

  it('a migration-aware app exports its state on the phone and the PC imports it with the stream; both directions continue', async () => {
    stack = await startStack(['phone', 'pc']);
    const echo = await startEchoLineServer();
    cleanups.push(echo.close);
    const phoneApps = new MigrationAwareApps();
    phoneApps.register({ name: 'chat', owns: (c) => c.destination === `127.0.0.1:${echo.port}`, exportState: () => ({ nick: 'bob', lines: 3 }) });
    const pcApps = new MigrationAwareApps();
    let imported: unknown;
    const pcGot: Buffer[] = [];
    pcApps.register({
      name: 'chat',
      importState: async (state, stream) => {
        imported = state;
        stream.write('pc-1\npc-2\n');
        for await (const c of stream) {
          pcGot.push(c as Buffer);
          if (Buffer.concat(pcGot).toString().split('\n').length > 2) stream.end();
        }
      },
    });
    const phone = await stack.agent('phone', { apps: phoneApps });
    const pc = await stack.agent('pc', { apps: pcApps });
    const tunnel = await connectViaProxy('127.0.0.1', echo.port, { proxy: stack.proxyAddr.listen, ...stack.devices.phone!, did: stack.devices.phone!.did });
    const phoneGot: Buffer[] = [];
    tunnel.socket.on('data', (c: Buffer) => phoneGot.push(c));
    tunnel.socket.resume();
    tunnel.socket.write('phone-1\nphone-2\nphone-3\n');
    await until('three echoes on the phone', () => Buffer.concat(phoneGot).toString().split('\n').length > 3);
    const conn = (await phone.control!.listConnections())[0]!;
    const result = await phone.move(conn.id, 'pc');
    expect(result.state).toBe('done');
    // The phone's app lets go once its connection has moved.
    tunnel.socket.end();
    const handled = await until('the PC app to finish', () => incoming(pc, ['handled', 'failed']));
    expect(handled).toMatchObject({ state: 'handled', handler: 'aware:chat' });
    expect(imported).toEqual({ nick: 'bob', lines: 3 });
    // Invariants 1 and 2: the server saw the phone's bytes then the PC's; each side got its echoes.
    expect(Buffer.concat(echo.received).toString()).toBe('phone-1\nphone-2\nphone-3\npc-1\npc-2\n');
    expect(Buffer.concat([...phoneGot, ...pcGot]).toString()).toBe(Buffer.concat(echo.sent).toString());
    expect(Buffer.concat(pcGot).toString()).toBe('echo:pc-1\necho:pc-2\n');
    tunnel.socket.destroy();
  });

  it('rolls back to the phone when the target device is offline, and the download goes on', async () => {
    stack = await startStack(['phone', 'pc'], { migrationTimeoutMs: 800 });
    const phone = await stack.agent('phone');
    const http = await startSlowHttpServer(payload(300_000), { chunk: 4096, intervalMs: 5 });
    cleanups.push(http.close);
    const tunnel = await connectViaProxy('127.0.0.1', http.port, { proxy: stack.proxyAddr.listen, did: stack.devices.phone!.did, token: stack.devices.phone!.token });
    const got: Buffer[] = [];
    tunnel.socket.on('data', (c: Buffer) => got.push(c));
    const ended = new Promise((r) => tunnel.socket.once('end', r));
    tunnel.socket.resume();
    tunnel.socket.write('GET / HTTP/1.0\r\n\r\n');
    await until('some bytes', () => Buffer.concat(got).length > 20_000);
    const conn = (await phone.control!.listConnections())[0]!;
    const result = await phone.move(conn.id, 'pc');
    expect(result.state).toBe('rolled-back');
    expect(phone.state.migrations[0]).toMatchObject({ direction: 'outgoing', state: 'rolled-back' });
    await ended;
    expect(sha256(Buffer.concat(got))).toBe(sha256(http.response));
  });
});
