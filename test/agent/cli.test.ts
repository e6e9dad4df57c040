import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatHostPort } from '../../src/common/host-port.js';
import { connectViaProxy } from '../../src/agent/proxy-client/connect-via-proxy.js';
import { payload } from './helpers/sockets.js';
import { startSlowHttpServer } from './helpers/servers.js';
import { startStack, type Stack } from './helpers/stack.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');
let stack: Stack | undefined;
const children: ChildProcess[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGTERM');
  for (const c of cleanups.splice(0)) c();
  await stack?.close();
  stack = undefined;
});

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((r) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, TSMP_LOG: 'silent', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => r({ code, stdout, stderr }));
  });
}

describe('tsmp CLI (compiled)', () => {
  it.skipIf(!existsSync(CLI))('device register, agent, status, devices, ls and migrate, with --json; errors are one line and exit non-zero', async () => {
    stack = await startStack(['pc']);
    await stack.agent('pc');
    const home = join(stack.dir, 'cli-phone');
    const proxy = formatHostPort(stack.proxyAddr.listen);
    const control = formatHostPort(stack.proxyAddr.control);
    const reg = await run(['device', 'register', 'phone', '--user', stack.uid, '--nameserver', stack.ns.url, '--home', home, '--proxy', proxy, '--proxy-control', control, '--json'], {
      TSMP_PASSWORD: 'correct horse battery',
    });
    expect(reg.code).toBe(0);
    expect(JSON.parse(reg.stdout).did).toBe('phone.bob@example.org');

    const agent = spawn(process.execPath, [CLI, 'agent', '--home', home, '--ui', '127.0.0.1:0', '--json', '--coa', '198.18.0.9'], { env: { ...process.env, TSMP_LOG: 'silent' } });
    children.push(agent);
    const info = await new Promise<{ did: string; ui: string }>((r) => agent.stdout.once('data', (c: Buffer) => r(JSON.parse(c.toString()))));
    expect(info.did).toBe('phone.bob@example.org');
    expect(info.ui).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?s=/);

    const http = await startSlowHttpServer(payload(400_000), { chunk: 2048, intervalMs: 5 });
    cleanups.push(http.close);
    const creds = JSON.parse((await import('node:fs')).readFileSync(join(home, 'credentials.json'), 'utf8')) as { did: string; token: string };
    const tunnel = await connectViaProxy('127.0.0.1', http.port, { proxy: stack.proxyAddr.listen, did: creds.did, token: creds.token });
    tunnel.socket.resume();
    tunnel.socket.write('GET / HTTP/1.0\r\n\r\n');
    cleanups.push(() => tunnel.socket.destroy());

    const ls = await run(['ls', '--home', home, '--json']);
    expect(ls.code).toBe(0);
    const conns = JSON.parse(ls.stdout).connections as Array<{ id: string; device: string }>;
    expect(conns).toHaveLength(1);
    expect(conns[0]!.device).toBe('phone.bob@example.org');

    const devices = await run(['devices', '--home', home, '--json']);
    expect(JSON.parse(devices.stdout).devices.map((d: { did: string }) => d.did).sort()).toEqual(['pc.bob@example.org', 'phone.bob@example.org']);

    const moved = await run(['migrate', conns[0]!.id, '--to', 'pc', '--handler', `file:${join(stack.dir, 'rest.bin')}`, '--home', home, '--json']);
    expect(moved.code).toBe(0);
    expect(moved.stderr).toBe(''); // no progress when stderr is not a terminal
    expect(JSON.parse(moved.stdout)).toMatchObject({ state: 'done', to: 'pc.bob@example.org' });

    const status = await run(['status', '--home', home, '--json']);
    const s = JSON.parse(status.stdout);
    expect(s).toMatchObject({ running: true, status: { did: 'phone.bob@example.org', coa: '198.18.0.9' } });
    expect(s.migrations[0]).toMatchObject({ direction: 'outgoing', state: 'done' });

    const noHome = await run(['ls', '--home', join(stack.dir, 'empty')]);
    expect(noHome.code).toBe(1);
    expect(noHome.stderr).toMatch(/^tsmp: no device credentials .* \[ERR_NO_CREDENTIALS\]\n$/);
  }, 120_000); // seven CLI processes; each loads the whole CLI
});
