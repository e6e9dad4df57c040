import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, connect, type AddressInfo, type LookupFunction, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { DialError, dialDestination } from '../../src/proxy/front/dial.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  server.close();
  await once(server, 'close');
  return port;
}

async function dialError(promise: Promise<Socket>): Promise<DialError> {
  try {
    const socket = await promise;
    socket.destroy();
  } catch (err) {
    expect(err).toBeInstanceOf(DialError);
    return err as DialError;
  }
  throw new Error('dial unexpectedly succeeded');
}

describe('dialDestination', () => {
  const cleanup: (() => void)[] = [];
  afterAll(() => cleanup.forEach((f) => f()));

  it('connects with Nagle off and carries bytes exactly', async () => {
    const server: Server = createServer((s) => s.pipe(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanup.push(() => server.close());
    const socket = await dialDestination({ host: '127.0.0.1', port: (server.address() as AddressInfo).port }, { timeoutMs: 2000 });
    const payload = randomBytes(256 * 1024);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.end(payload);
    await once(socket, 'end');
    expect(sha(Buffer.concat(chunks))).toBe(sha(payload));
    socket.destroy();
  });

  it('reports a closed port as refused', async () => {
    const err = await dialError(dialDestination({ host: '127.0.0.1', port: await closedPort() }, { timeoutMs: 2000 }));
    expect(err.failure).toBe('refused');
    expect(err.code).toBe('ERR_DIAL_REFUSED');
  });

  it('reports an unresolvable name (RFC 2606 .invalid) as dns', async () => {
    const err = await dialError(dialDestination({ host: 'nonexistent.invalid', port: 80 }, { timeoutMs: 5000 }));
    expect(err.failure).toBe('dns');
  });

  it('reports a resolver that never answers as timeout', async () => {
    const hang: LookupFunction = () => {};
    const started = Date.now();
    const err = await dialError(dialDestination({ host: 'slow.example', port: 80 }, { timeoutMs: 150, lookup: hang }));
    expect(err.failure).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('reports a listener with a full backlog as timeout', async () => {
    // A child listens with backlog 1 and then blocks its event loop, so it never accepts: the
    // kernel's accept queue fills and further SYNs are dropped (Linux tcp_conn_request).
    const child: ChildProcess = spawn(process.execPath, [
      '-e',
      `const s = require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
         process.stdout.write(s.address().port + '\\n');
         setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000), 20);
       });`,
    ]);
    cleanup.push(() => child.kill('SIGKILL'));
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const port = Number(line.toString().trim());
    await new Promise((r) => setTimeout(r, 100));
    const fillers: Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      fillers.push(s);
    }
    cleanup.push(() => fillers.forEach((s) => s.destroy()));
    await new Promise((r) => setTimeout(r, 100));
    const err = await dialError(dialDestination({ host: '127.0.0.1', port }, { timeoutMs: 300 }));
    expect(err.failure).toBe('timeout');
    child.kill('SIGKILL');
  });

  it('gives up on abort: a timeout reason is timeout, any other is general', async () => {
    const hang: LookupFunction = () => {};
    const byTimeout = await dialError(
      dialDestination({ host: 'slow.example', port: 80 }, { timeoutMs: 5000, lookup: hang, signal: AbortSignal.timeout(50) }),
    );
    expect(byTimeout.failure).toBe('timeout');
    const controller = new AbortController();
    const pending = dialDestination({ host: 'slow.example', port: 80 }, { timeoutMs: 5000, lookup: hang, signal: controller.signal });
    controller.abort();
    expect((await dialError(pending)).failure).toBe('general');
    const already = await dialError(dialDestination({ host: '127.0.0.1', port: 1 }, { timeoutMs: 5000, signal: controller.signal }));
    expect(already.failure).toBe('general');
  });

  it('refuses port 0 and a non-positive timeout up front', async () => {
    expect((await dialError(dialDestination({ host: '127.0.0.1', port: 0 }, { timeoutMs: 100 }))).failure).toBe('host-unreachable');
    await expect(dialDestination({ host: '127.0.0.1', port: 1 }, { timeoutMs: 0 })).rejects.toThrow(RangeError);
  });
});
