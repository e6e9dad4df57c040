import { createHash, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dial } from '../../src/bench/proxy/socks-dial.js';
import { did, startProxy, TOKENS, type Harness } from '../support/proxy-harness.js';

let harness: Harness | undefined;
let echo: Server | undefined;
afterEach(async () => {
  await harness?.close();
  await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
  harness = echo = undefined;
});

async function startEcho(): Promise<number> {
  echo = createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo!.listen(0, '127.0.0.1', r));
  return (echo.address() as AddressInfo).port;
}

describe('the bench SOCKS5 client against the real proxy', () => {
  it.each([false, true])('opens a tunnel whose bytes come back exactly (handshake pipelined: %s)', async (pipelined) => {
    harness = await startProxy();
    const port = await startEcho();
    const { socket } = await dial({ kind: 'tsmp', port: harness.port, user: did('phone'), pass: TOKENS.phone, host: '127.0.0.1', destPort: port, pipelined }, 5000);
    const sent = randomBytes(256 * 1024);
    const got: Buffer[] = [];
    let n = 0;
    const done = new Promise<void>((resolve) =>
      socket.on('data', (d: Buffer) => {
        got.push(d);
        n += d.length;
        if (n >= sent.length) resolve();
      }),
    );
    socket.resume();
    socket.write(sent);
    await done;
    socket.destroy();
    const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(hash(Buffer.concat(got))).toBe(hash(sent));
  });

  it('rejects when the proxy refuses the credentials', async () => {
    harness = await startProxy();
    const port = await startEcho();
    await expect(
      dial({ kind: 'tsmp', port: harness.port, user: did('phone'), pass: 'wrong-token', host: '127.0.0.1', destPort: port }, 5000),
    ).rejects.toThrow(/refused the bench credentials|closed during the handshake/);
  });
});
