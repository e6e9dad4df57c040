import net from 'node:net';
import { fdOf, tcpInfoOfFd } from '../../proxy/kernel/tcp-info.js';
import { payloadBytes } from '../../netem/probe-scripts.js';
import { emit, nowMs, onCommands } from './role-io.js';
import { responseHead } from './http-file.js';

/**
 * Alice's server: serves `GET /file` (the paper's 0.8 MB transfer) with `Range: bytes=N-` for
 * the re-download alternative. Written on plain sockets so that the response head is exactly
 * known (no Date header): the bench checks the devices' concatenated bytes against it.
 * argv: ADDRESS SIZE SEED. Prints `{"ev":"listening","port"}`.
 *
 * It also watches its own sockets' TCP state (issue 6, "the server's TCP state across each
 * migration"): every `SAMPLE_MS` it reads TCP_INFO of each open connection and keeps the latest
 * reading, so that `{op:"tcp", id}` → `{ev:"tcp", id, sample}` gives the state now, or, once the
 * socket has closed, the last state it had while open. Reading `ss` from outside instead gave
 * `ssthresh ∞` for a socket that had already closed (an artefact of the old tables).
 */
const [address = '127.0.0.1', sizeText = '800000', seed = 'paper'] = process.argv.slice(2);
const body = payloadBytes(seed, Number(sizeText));
const SAMPLE_MS = 10;
/** linux/tcp.h TCP_INFINITE_SSTHRESH: slow start has not ended. */
const INFINITE_SSTHRESH = 0x7fffffff;

export interface TcpSample {
  /** Epoch ms of the reading. */
  t: number;
  open: boolean;
  /** null while infinite (slow start never ended). */
  ssthresh: number | null;
  cwnd: number;
  /** tcpi_total_retrans: segments this socket retransmitted. */
  totalRetrans: number;
  bytesAcked: number;
  rttUs: number;
}

let last: TcpSample | null = null;
const live = new Set<net.Socket>();

function sample(sock: net.Socket): void {
  const fd = fdOf(sock);
  if (fd < 0) return;
  try {
    const i = tcpInfoOfFd(fd);
    last = {
      t: nowMs(), open: true, ssthresh: i.sndSsthresh >= INFINITE_SSTHRESH ? null : i.sndSsthresh, cwnd: i.sndCwnd,
      totalRetrans: i.totalRetrans, bytesAcked: Number(i.bytesAcked), rttUs: i.rtt,
    };
  } catch {
    // Closed between the check and the call: the previous sample stands.
  }
}

setInterval(() => {
  for (const s of live) sample(s);
}, SAMPLE_MS).unref();

const server = net.createServer((sock) => {
  sock.on('error', () => {});
  live.add(sock);
  sock.once('close', () => {
    live.delete(sock);
    if (last) last = { ...last, open: false };
  });
  let head = '';
  const onData = (chunk: Buffer): void => {
    head += chunk.toString('latin1');
    if (head.length > 8192) return void sock.destroy();
    if (!head.includes('\r\n\r\n')) return;
    sock.off('data', onData);
    const range = /^range:\s*bytes=(\d+)-\s*$/im.exec(head);
    const from = range ? Math.min(Number(range[1]), body.length) : 0;
    if (!/^GET \/file /.test(head)) return void sock.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    sock.write(responseHead(body.length, from));
    sock.end(body.subarray(from));
    sock.resume();
  };
  sock.on('data', onData);
});
server.listen(0, address, () => emit('listening', { port: (server.address() as net.AddressInfo).port }));

onCommands((cmd) => {
  if (cmd.op !== 'tcp') return;
  for (const s of live) sample(s);
  emit('tcp', { id: cmd.id, sample: last });
});
