// The floor for the connection-rate figure in Node: the least a SOCKS5 relay can do for the
// bench's connections (greeting, RFC 1929 auth, CONNECT, one write per answer, then two pipes).
// No timers, no registry, no replay cache, no checks beyond what the bench's client sends.
// A reference for experiments only; prints the proxy's "devices on HOST:PORT" line. Flags:
// --keepalive (setKeepAlive on both sockets, as the proxy does); --workers N with --mode
// shared (node:cluster SCHED_NONE: every worker polls the one listening socket), rr (SCHED_RR:
// the primary accepts and passes each socket to a worker) or reuseport (one SO_REUSEPORT
// listening socket per worker, made with koffi: the kernel spreads connections over them).
//   node scripts/experiments/conn-rate/min-socks.mjs [--keepalive] [--workers N --mode shared|rr|reuseport]
import cluster from 'node:cluster';
import { connect, createServer } from 'node:net';
import koffi from 'koffi';

const keepalive = process.argv.includes('--keepalive');
const server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
  let state = 0;
  let buf = Buffer.alloc(0);
  if (keepalive) client.setKeepAlive(true, 30_000);
  client.on('error', () => client.destroy());
  const onData = (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    if (state === 0 && buf.length >= 2 + buf[1]) {
      buf = buf.subarray(2 + buf[1]);
      client.write(Buffer.from([5, 2]));
      state = 1;
    }
    if (state === 1 && buf.length >= 2 && buf.length >= 3 + buf[1] && buf.length >= 3 + buf[1] + buf[2 + buf[1]]) {
      buf = buf.subarray(3 + buf[1] + buf[2 + buf[1]]);
      client.write(Buffer.from([1, 0]));
      state = 2;
    }
    if (state === 2 && buf.length >= 5 && buf.length >= 7 + buf[4]) {
      const host = buf.subarray(5, 5 + buf[4]).toString();
      const port = buf.readUInt16BE(5 + buf[4]);
      state = 3;
      client.off('data', onData);
      client.pause();
      const up = connect({ host, port, noDelay: true, allowHalfOpen: true });
      if (keepalive) up.setKeepAlive(true, 30_000);
      up.on('error', () => {
        client.destroy();
        up.destroy();
      });
      up.once('connect', () => {
        client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, up.localPort >> 8, up.localPort & 255]));
        client.once('close', () => up.destroySoon());
        up.once('close', () => client.destroySoon());
        client.pipe(up);
        up.pipe(client);
      });
    }
  };
  client.on('data', onData);
});
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};
const workers = Number(arg('--workers', '1'));
const mode = arg('--mode', 'shared');

/** A listening TCP socket on 127.0.0.1:port with SO_REUSEPORT, made by hand (Node 20 has no reusePort). */
function reusePortFd(port) {
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int, int, int)');
  const setsockopt = lib.func('int setsockopt(int, int, int, const uint8_t *buf, uint32_t len)');
  const bind = lib.func('int bind(int, const uint8_t *addr, uint32_t len)');
  const listen = lib.func('int listen(int, int)');
  const getsockname = lib.func('int getsockname(int, _Out_ uint8_t *addr, _Inout_ uint32_t *len)');
  const fd = socket(2, 1 | 0o4000 | 0o2000000, 0); // AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC
  const one = Buffer.alloc(4);
  one.writeInt32LE(1);
  setsockopt(fd, 1, 15, one, 4); // SO_REUSEPORT
  setsockopt(fd, 1, 2, one, 4); // SO_REUSEADDR
  const sa = Buffer.alloc(16);
  sa.writeUInt16LE(2, 0);
  sa.writeUInt16BE(port, 2);
  sa[4] = 127;
  sa[7] = 1;
  if (bind(fd, sa, 16) !== 0) throw new Error(`bind ${koffi.errno()}`);
  if (port !== 0 && listen(fd, 511) !== 0) throw new Error(`listen ${koffi.errno()}`);
  const out = Buffer.alloc(16);
  getsockname(fd, out, [16]);
  return { fd, port: out.readUInt16BE(2) };
}

if (workers > 1 && cluster.isPrimary) {
  cluster.schedulingPolicy = mode === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
  let port = 0;
  if (mode === 'reuseport') port = reusePortFd(0).port; // held bound (not listening) so the port stays ours
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    const w = cluster.fork({ MIN_SOCKS_PORT: String(port) });
    w.on('message', (m) => {
      port = m.port;
      if (++ready === workers) process.stdout.write(`tsmp proxy: devices on 127.0.0.1:${port}, control API on http://127.0.0.1:0 (${workers} workers, ${mode})\n`);
    });
  }
  process.once('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const done = () => {
    if (cluster.isWorker) process.send({ port: server.address().port });
    else process.stdout.write(`tsmp proxy: devices on 127.0.0.1:${server.address().port}, control API on http://127.0.0.1:0\n`);
  };
  if (cluster.isWorker && mode === 'reuseport') {
    const { fd } = reusePortFd(Number(process.env.MIN_SOCKS_PORT));
    // net.Server.listen({fd}) in a cluster worker asks the primary for the handle; _listen2 opens it here.
    server._listen2(null, null, null, 511, fd);
    server.once('listening', done);
  } else {
    server.listen({ port: 0, host: '127.0.0.1' }, done);
  }
  process.once('SIGTERM', () => process.exit(0));
}
