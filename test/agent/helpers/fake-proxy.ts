import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A minimal SOCKS5 proxy for the agent's tests (RFC 1928 + RFC 1929), written independently of
 * the real proxy so the agent's client is checked against a second implementation. CONNECT to
 * `<ticket>.ticket.tsmp.invalid` hands the tunnel to `onTicket`; other destinations are dialled.
 */
export interface FakeProxy {
  port: number;
  /** Credentials seen, in order. */
  logins: string[];
  destinations: string[];
  close(): Promise<void>;
}

export async function startFakeProxy(options: {
  users: Record<string, string>;
  onTicket?: (ticket: string, socket: Socket) => void;
  /** Reply code to send instead of connecting. */
  refuseWith?: number;
}): Promise<FakeProxy> {
  const logins: string[] = [];
  const destinations: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, async (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const reader = bufferedReader(socket);
    try {
      const [ver, n] = await reader.take(2);
      if (ver !== 5) return void socket.destroy();
      const methods = await reader.take(n!);
      if (!methods.includes(2)) return void socket.end(Buffer.from([5, 0xff]));
      socket.write(Buffer.from([5, 2]));
      const [, ulen] = await reader.take(2);
      const user = (await reader.take(ulen!)).toString();
      const [plen] = await reader.take(1);
      const pass = (await reader.take(plen!)).toString();
      logins.push(`${user}:${pass}`);
      if (options.users[user] !== pass) return void socket.end(Buffer.from([1, 1]));
      socket.write(Buffer.from([1, 0]));
      const [, cmd, , atyp] = await reader.take(4);
      let host: string;
      if (atyp === 1) host = [...(await reader.take(4))].join('.');
      else if (atyp === 3) host = (await reader.take((await reader.take(1))[0]!)).toString();
      else return void socket.destroy();
      const port = (await reader.take(2)).readUInt16BE(0);
      destinations.push(`${host}:${port}`);
      const ok = Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0x12, 0x34]);
      if (cmd !== 1) return void socket.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
      if (options.refuseWith) return void socket.end(Buffer.from([5, options.refuseWith, 0, 1, 0, 0, 0, 0, 0, 0]));
      const rest = reader.detach();
      const ticket = /^([A-Za-z0-9_-]+)\.ticket\.tsmp\.invalid$/.exec(host);
      if (ticket && options.onTicket) {
        // Corked so the reply and the first tunnel bytes leave in one segment, as a proxy that
        // flushes its cache right after the reply may do.
        socket.cork();
        socket.write(ok);
        if (rest.length) socket.unshift(rest);
        options.onTicket(ticket[1]!, socket);
        process.nextTick(() => socket.uncork());
        return;
      }
      const upstream = connect({ host, port, allowHalfOpen: true });
      upstream.on('error', () => socket.destroy());
      await once(upstream, 'connect');
      socket.write(ok);
      if (rest.length) upstream.write(rest);
      socket.pipe(upstream);
      upstream.pipe(socket);
      upstream.on('close', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
    } catch {
      socket.destroy();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    logins,
    destinations,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function bufferedReader(socket: Socket) {
  let buf = Buffer.alloc(0);
  let waiter: (() => void) | undefined;
  const onData = (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    waiter?.();
  };
  socket.on('data', onData);
  return {
    async take(n: number): Promise<Buffer> {
      while (buf.length < n) {
        await new Promise<void>((resolve, reject) => {
          waiter = resolve;
          socket.once('close', () => reject(new Error('closed')));
        });
      }
      const out = buf.subarray(0, n);
      buf = buf.subarray(n);
      return out;
    },
    detach(): Buffer {
      socket.off('data', onData);
      socket.pause();
      return buf;
    },
  };
}
