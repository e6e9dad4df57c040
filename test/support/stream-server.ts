import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { digestStreamSlice } from '../../src/common/digest-stream.js';

export interface StreamServer {
  port: number;
  server: Server;
  /** Sockets accepted, in order; each records what it sent. */
  sessions: { socket: Socket; sent: number; hash: () => string; done: Promise<void>; finish: () => void }[];
  close(): Promise<void>;
}

/**
 * A server that streams `total` bytes of the digest sequence to each client, `chunk` bytes
 * every `intervalMs` (throttled so a migration lands mid-stream), then ends with a FIN.
 */
export async function startStreamServer(opts: { total: number; chunk: number; intervalMs: number; seed?: string }): Promise<StreamServer> {
  const sessions: StreamServer['sessions'] = [];
  // allowHalfOpen: the stream goes on after a client's FIN, as a download server's would.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const hash = createHash('sha256');
    let sent = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    let total = opts.total;
    // finish(): end the stream where it is now, for tests whose length is set by their own pace.
    const session = { socket, sent: 0, hash: () => hash.copy().digest('hex'), done, finish: () => (total = sent) };
    sessions.push(session);
    socket.on('error', () => {});
    const pump = () => {
      if (socket.destroyed) return resolveDone();
      while (sent < total) {
        const len = Math.min(opts.chunk, total - sent);
        const data = digestStreamSlice(opts.seed ?? 'tsmp', sent, len);
        hash.update(data);
        sent += len;
        session.sent = sent;
        const more = socket.write(data);
        if (!more) {
          socket.once('drain', () => setTimeout(pump, opts.intervalMs));
          return;
        }
        if (opts.intervalMs > 0) {
          setTimeout(pump, opts.intervalMs);
          return;
        }
      }
      socket.end(() => resolveDone());
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    sessions,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.socket.destroy();
        server.close(() => r());
      }),
  };
}

/** The sha256 of bytes [from, to) of the digest sequence. */
export function expectedHash(from: number, to: number, seed = 'tsmp'): string {
  return createHash('sha256').update(digestStreamSlice(seed, from, to - from)).digest('hex');
}
