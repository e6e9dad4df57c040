import net from 'node:net';
import { connectTunnel } from './http-connect-tunnel.js';
import { emit, fail, onCommands } from './role-io.js';

/**
 * Background load at the proxy (the paper's Figures 4 and 5): N long-lived connections of
 * another user, each carrying a trickle of server → client data so the proxy relays live
 * connections, not idle ones.
 *
 * `server ADDRESS BYTES_PER_SEC`: accepts connections and sends each BYTES_PER_SEC once a second,
 *   the connections spread over ten ticks a second so the load is smooth rather than bursty.
 * `clients`: on `{op:"open", via, dest, count, concurrency}` opens `count` CONNECT tunnels and
 *   reports `{ev:"ready", open, failed}`; `{op:"count"}` reports how many are still open.
 */
const [role = '', address = '127.0.0.1', rateText = '256'] = process.argv.slice(2);

if (role === 'server') {
  const sockets = new Set<net.Socket>();
  // Each connection sends once a second (one small segment, not ten): thousands of connections
  // then cost thousands of packets a second, not tens of thousands.
  const chunk = Buffer.alloc(Math.max(1, Number(rateText)), 0x61);
  let tick = 0;
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.resume();
    sockets.add(s);
  });
  server.maxConnections = 100_000;
  setInterval(() => {
    let i = 0;
    tick = (tick + 1) % 10;
    for (const s of sockets) {
      // A tenth of the connections per tick; skip one whose peer is not reading, rather than
      // queue without bound.
      if (i++ % 10 === tick && s.writableLength < 64 * 1024) s.write(chunk);
    }
  }, 100);
  server.listen({ port: 0, host: address, backlog: 4096 }, () => emit('listening', { port: (server.address() as net.AddressInfo).port }));
} else if (role === 'clients') {
  const open = new Set<net.Socket>();
  onCommands(async (cmd) => {
    if (cmd.op === 'count') return emit('count', { open: open.size });
    if (cmd.op !== 'open') return fail(`unknown op ${String(cmd.op)}`);
    const via = cmd.via as Parameters<typeof connectTunnel>[0];
    const dest = String(cmd.dest);
    let left = Number(cmd.count);
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (left > 0) {
        left--;
        try {
          const { socket } = await connectTunnel(via, dest, 60_000);
          socket.on('error', () => {});
          socket.on('close', () => open.delete(socket));
          socket.resume();
          open.add(socket);
        } catch {
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Number(cmd.concurrency ?? 100)) }, worker));
    emit('ready', { open: open.size, failed });
  });
} else {
  fail(`unknown role ${role}`);
}
