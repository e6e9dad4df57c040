import { createHash } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { bytesAckedOfFd, fdOf, tcpInfoOfFd } from '../../src/proxy/kernel/tcp-info.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe("bytesAckedOfFd (the relay's lean TCP_INFO query)", () => {
  // Measured on an accepted socket, as the proxy's device sockets are: on the connecting side
  // Linux counts the SYN as one acknowledged byte, on the accepting side it does not.
  it('agrees with tcpInfoOfFd and reaches every byte the peer read', async () => {
    const payload = Buffer.alloc(300_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) % 251;
    const received: Buffer[] = [];
    let got = 0;
    let allRead!: () => void;
    const read = new Promise<void>((resolve) => (allRead = resolve));
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const client: Socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    client.on('data', (d: Buffer) => {
      received.push(d);
      got += d.length;
      if (got === payload.length) allRead();
    });
    const [sender] = await accepted;
    const fd = fdOf(sender);
    expect(bytesAckedOfFd(fd)).toBe(0);
    sender.write(payload);
    await read;
    // The last ACK may trail the read by a moment on a busy machine.
    for (let i = 0; i < 200 && bytesAckedOfFd(fd) < payload.length; i++) await new Promise((r) => setTimeout(r, 10));
    expect(bytesAckedOfFd(fd)).toBe(payload.length);
    expect(bytesAckedOfFd(fd)).toBe(Number(tcpInfoOfFd(fd).bytesAcked));
    expect(sha(Buffer.concat(received))).toBe(sha(payload));
    client.destroy();
    sender.destroy();
    server.close();
    expect(() => bytesAckedOfFd(1_000_000)).toThrow(/TCP_INFO/);
  });
});
