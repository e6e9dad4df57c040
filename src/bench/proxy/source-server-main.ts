/**
 * The source server of the proxy benchmark, as its own process (so that its event loop is not
 * the proxy's nor the load generator's). One port; the client's first byte picks the mode
 * (`source-protocol.ts`). Prints `{"port": N}` on stdout once listening.
 *
 *   node dist/bench/proxy/source-server-main.js [--stream-chunk BYTES] [--stream-interval MS]
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MODE, patternSlice, REQUEST_BYTES, RESPONSE_BYTES } from './source-protocol.js';

const { values } = parseArgs({
  options: {
    'stream-chunk': { type: 'string', default: '1024' },
    'stream-interval': { type: 'string', default: '50' },
    'bulk-chunk': { type: 'string', default: String(128 * 1024) },
  },
});
const streamChunk = Number(values['stream-chunk']);
const streamIntervalMs = Number(values['stream-interval']);
const BULK = Buffer.alloc(Number(values['bulk-chunk']), 0x61);
const RESPONSE = Buffer.alloc(RESPONSE_BYTES, 0x72);

/**
 * Throttled pattern streams, served from one timer rather than one timer each, but each stream in
 * its own 1 ms phase slot of the interval (round robin as they open): like independent servers,
 * the streams do not all write in the same millisecond. Serving every stream in one tick would
 * hand the relay a burst of N reads at once every interval, and a handshake arriving then would
 * wait for all of them (docs/bench.md, "Migration at 1,000 connections").
 */
const SLOT_MS = 1;
const slots = Math.max(1, Math.round(streamIntervalMs / SLOT_MS));
const streams: Map<Socket, { offset: number; blocked: boolean }>[] = Array.from({ length: slots }, () => new Map());
let nextSlot = 0;

function startBulk(socket: Socket): void {
  // One large write per drain: the cheapest sender Node has, so the relay is the bottleneck.
  // `writable` first: after the peer's FIN, write() returns an Error object (truthy), and the
  // destroy comes only on the next tick, so testing its result alone would spin forever.
  const pump = () => {
    while (socket.writable && socket.write(BULK) === true);
  };
  socket.on('drain', pump);
  pump();
}

function startRequest(socket: Socket, first: Buffer): void {
  let got = first.length;
  const answer = () => {
    if (got >= REQUEST_BYTES) {
      socket.removeAllListeners('data');
      socket.end(RESPONSE);
    }
  };
  socket.on('data', (d: Buffer) => {
    got += d.length;
    answer();
  });
  answer();
}

function startStream(socket: Socket): void {
  const state = { offset: 0, blocked: false };
  const slot = streams[nextSlot]!;
  nextSlot = (nextSlot + 1) % slots;
  slot.set(socket, state);
  socket.on('drain', () => (state.blocked = false));
  socket.once('close', () => slot.delete(socket));
}

function serve(slot: Map<Socket, { offset: number; blocked: boolean }>): void {
  for (const [socket, s] of slot) {
    if (s.blocked || !socket.writable) continue;
    const chunk = patternSlice(s.offset, streamChunk);
    s.offset += chunk.length;
    if (socket.write(chunk) !== true) s.blocked = true;
  }
}

// Serves every slot whose time has come since the last tick, so that a late timer does not lower
// the rate: each stream still gets one chunk per interval.
const epoch = performance.now();
let served = 0;
setInterval(() => {
  const due = Math.floor((performance.now() - epoch) / SLOT_MS);
  for (; served <= due; served++) serve(streams[served % slots]!);
}, SLOT_MS).unref();

const server = createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => {});
  // The client's FIN means it is done: stop at once, whatever is still queued for it.
  socket.once('end', () => socket.destroy());
  socket.once('data', (first: Buffer) => {
    switch (first[0]) {
      case MODE.bulk:
        return startBulk(socket);
      case MODE.request:
        return startRequest(socket, first);
      case MODE.idle:
        return;
      case MODE.stream:
        return startStream(socket);
      default:
        socket.destroy();
    }
  });
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});
process.once('SIGTERM', () => process.exit(0));
process.stdin.resume();
process.stdin.once('end', () => process.exit(0));
