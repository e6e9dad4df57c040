import { createServer, type Server, type Socket } from 'node:net';
import { listen } from './sockets.js';

/**
 * An HTTP/1.0 server that sends one fixed response slowly (chunk every `intervalMs`), so that a
 * test can migrate mid-download. `response` is the exact bytes it sends: headers and body.
 */
export async function startSlowHttpServer(body: Buffer, options: { chunk?: number; intervalMs?: number } = {}) {
  const head = Buffer.from(`HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
  const response = Buffer.concat([head, body]);
  let chunk = options.chunk ?? 8192;
  const intervalMs = options.intervalMs ?? 10;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', () => {
      let offset = 0;
      const timer = setInterval(() => {
        if (socket.destroyed) return clearInterval(timer);
        socket.write(response.subarray(offset, offset + chunk));
        offset += chunk;
        if (offset >= response.length) {
          clearInterval(timer);
          socket.end();
        }
      }, intervalMs);
    });
  });
  const port = await listen(server);
  return {
    port,
    response,
    /** Changes the bytes sent per tick, e.g. to finish quickly once a test has migrated. */
    setChunk: (bytes: number) => {
      chunk = bytes;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** A line server: answers each line `L` with `echo:L`, and records everything it received. */
export async function startEchoLineServer() {
  const received: Buffer[] = [];
  const sent: Buffer[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    let partial = '';
    socket.on('data', (c: Buffer) => {
      received.push(c);
      const lines = (partial + c.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        const out = Buffer.from(`echo:${l}\n`);
        sent.push(out);
        socket.write(out);
      }
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => undefined);
  });
  const port = await listen(server);
  return { port, received, sent, close: () => server.close() };
}
