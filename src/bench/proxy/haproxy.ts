import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { TimeoutError } from '../../common/errors.js';
import { BenchChild } from './child-process.js';
import { ProxyBenchError } from './errors.js';
import { dial } from './socks-dial.js';
import { MODE, REQUEST_BYTES } from './source-protocol.js';

const run = promisify(execFile);

/** haproxy's version line; installs it from Debian first when it is missing (we run as root). */
export async function ensureHaproxy(timeoutMs = 300_000): Promise<string> {
  const version = async () => (await run('haproxy', ['-v'], { timeout: 10_000 })).stdout.split('\n')[0]!.trim();
  try {
    return await version();
  } catch {
    process.stderr.write('haproxy is missing: installing it with apt-get\n');
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['install', '-y', '-qq', 'haproxy'], { timeout: timeoutMs, env });
  } catch {
    await run('apt-get', ['update', '-qq'], { timeout: timeoutMs, env });
    await run('apt-get', ['install', '-y', '-qq', 'haproxy'], { timeout: timeoutMs, env });
  }
  return version();
}

/**
 * The reference relay: haproxy in TCP mode with its defaults otherwise (no splicing), a single
 * frontend that forwards to the source server.
 */
function haproxyConfig(backendPort: number, threads: number, maxconn: number): string {
  return [
    'global',
    `  nbthread ${threads}`,
    `  maxconn ${maxconn}`,
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 300s',
    '  timeout server 300s',
    'frontend bench',
    // The listening socket is bound by the bench on port 0 and inherited as fd 3, so no fixed
    // port is ever used and there is no race on a port picked in advance.
    '  bind fd@3',
    `  maxconn ${maxconn}`,
    '  default_backend source',
    'backend source',
    `  server source 127.0.0.1:${backendPort}`,
    '',
  ].join('\n');
}

export interface RunningHaproxy {
  child: BenchChild;
  port: number;
}

/** haproxy needs two fds per relayed connection plus its own; it refuses to start past its fd limit. */
export function haproxyMaxconn(nofile: number): number {
  return Math.max(1000, Math.floor((nofile - 200) / 2));
}

export async function startHaproxy(opts: { backendPort: number; threads: number; dir: string; timeoutMs: number; maxconn: number }): Promise<RunningHaproxy> {
  const cfg = join(opts.dir, `haproxy-${opts.backendPort}.cfg`);
  writeFileSync(cfg, haproxyConfig(opts.backendPort, opts.threads, opts.maxconn));
  const listener = await listenEphemeral();
  const port = (listener.address() as AddressInfo).port;
  const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd;
  let child: BenchChild;
  try {
    child = new BenchChild({ name: 'haproxy', command: 'haproxy', args: ['-db', '-f', cfg], fds: [fd] });
  } finally {
    // haproxy holds its own copy of the socket now; ours must not accept its connections.
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
  await waitServing(child, port, opts.timeoutMs);
  return { child, port };
}

function listenEphemeral(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => resolve(server));
  });
}

/** Ready means a request/response goes through it to the source server. */
async function waitServing(child: BenchChild, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!child.running) throw new ProxyBenchError(`haproxy exited: ${child.stderrTail()}`);
    try {
      const { socket } = await dial({ kind: 'haproxy', port }, 1000);
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 1000);
        socket.once('data', () => {
          clearTimeout(timer);
          resolve(true);
        });
        socket.once('close', () => resolve(false));
        const req = Buffer.alloc(REQUEST_BYTES, 0x71);
        req[0] = MODE.request;
        socket.write(req);
        socket.resume();
      });
      socket.destroy();
      if (ok) return;
    } catch {
      // not accepting yet
    }
    if (Date.now() > deadline) throw new TimeoutError('haproxy start', timeoutMs);
    await sleep(50);
  }
}
