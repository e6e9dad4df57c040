import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * Two ends of a real loopback TCP connection: `upstream` plays the proxy (and the server behind
 * it), `stream` is what the agent got back from the proxy as the resumed stream.
 */
export async function tcpPair(): Promise<{ upstream: Socket; stream: Socket; close: () => void }> {
  // The proxy half-closes properly: its end of the tunnel stays writable after the device's FIN.
  const server = createServer({ allowHalfOpen: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const stream = connect(port, '127.0.0.1');
  await once(stream, 'connect');
  const [upstream] = await accepted;
  server.close();
  return {
    upstream,
    stream,
    close: () => {
      upstream.destroy();
      stream.destroy();
    },
  };
}

export async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

export function sha256(data: Buffer | Buffer[]): string {
  const h = createHash('sha256');
  for (const b of Array.isArray(data) ? data : [data]) h.update(b);
  return h.digest('hex');
}

/** Random payload: data-path tests compare hashes of what was sent and what arrived. */
export function payload(bytes: number): Buffer {
  return randomBytes(bytes);
}

/** Collects everything `socket` sends until it ends. */
export function readAll(socket: Socket, max = 64 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    socket.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) reject(new Error('readAll bound exceeded'));
      chunks.push(c);
    });
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/** Writes `data` in chunks of irregular size, then ends. */
export async function writeChunked(socket: Socket, data: Buffer, end = true): Promise<void> {
  let offset = 0;
  let i = 0;
  while (offset < data.length) {
    const size = 1 + ((i++ * 7919) % 65_536);
    const ok = socket.write(data.subarray(offset, offset + size));
    offset += size;
    if (!ok) await once(socket, 'drain');
  }
  if (end) socket.end();
}

export async function connectTo(port: number, host = '127.0.0.1'): Promise<Socket> {
  const s = connect(port, host);
  await once(s, 'connect');
  return s;
}
