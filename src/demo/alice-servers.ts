import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { digestStreamSlice } from '../common/digest-stream.js';

/**
 * Alice's side of the paper's Figure 3: an HTTP server with a video file, throttled so that a
 * download lasts long enough to be moved, and a line chat server. Both are ordinary,
 * migration-unaware servers.
 */
export interface VideoServer {
  port: number;
  size: number;
  sha256: string;
  close(): Promise<void>;
}

export async function startVideoServer(size: number, bytesPerSecond: number): Promise<VideoServer> {
  const video = digestStreamSlice('alice-video', 0, size);
  const sha256 = createHash('sha256').update(video).digest('hex');
  const server: HttpServer = createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': size });
    const slice = Math.max(1024, Math.round(bytesPerSecond / 50));
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      const n = Math.min(slice, size - sent);
      res.write(video.subarray(sent, sent + n));
      sent += n;
      if (sent >= size) {
        clearInterval(timer);
        res.end();
      }
    }, 20);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    size,
    sha256,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

export interface ChatServer {
  port: number;
  /** Lines the server received, in order. */
  received: string[];
  /** Lines the server sent, in order. */
  sent: string[];
  close(): Promise<void>;
}

/** Alice's chat: answers each line `bob: X` with `alice: got X`. */
export async function startChatServer(): Promise<ChatServer> {
  const received: string[] = [];
  const sent: string[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    const send = (line: string) => {
      sent.push(line);
      socket.write(`${line}\n`);
    };
    send('alice: hi Bob!');
    socket.on('data', (text: string) => {
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        received.push(line);
        send(`alice: got "${line.replace(/^bob: /, '')}"`);
      }
    });
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    sent,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
