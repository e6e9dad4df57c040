/**
 * Source of the delay forwarder's worker thread (run with `new Worker(src, { eval: true })`, so
 * it needs no build step and works the same under vitest and from `dist/`).
 *
 * Why a worker with its own poll loop: Node's timers have 1 ms granularity and fired up to ~2 ms
 * late for isolated packets in our measurements, a 5–10 % error on the paper's 38 ms RTT. Here the
 * thread sleeps in ppoll(2) with a nanosecond timeout (and 1 µs timer slack) until the TUN is
 * readable or the next packet is due, so releases are accurate to tens of microseconds.
 *
 * Shared memory with the main thread (no messages: the thread rarely returns to its event loop):
 * - ctrl (Int32Array): [0] stop flag, [1] exit state (1 = stopped, 2 = read error).
 * - params (Float64Array): 4 per link: upDelayMs, downDelayMs, upLoss, downLoss; live-updatable.
 * - stats (Float64Array): see STAT_* in delay-forwarder.ts.
 *
 * Per path (source /24 → destination /24) packets wait in a FIFO; every packet of a path has the
 * same delay, so releasing FIFO heads in due order keeps each path's order, as a link would.
 * The held bytes are bounded; a packet that would pass the bound is tail-dropped.
 */
export const FORWARDER_WORKER_JS = String.raw`
'use strict';
const { workerData } = require('node:worker_threads');
const koffi = require(workerData.koffiPath);
const { fd, subnets, maxQueueBytes, idlePollMs } = workerData;
const ctrl = new Int32Array(workerData.ctrl);
const params = new Float64Array(workerData.params);
const stats = new Float64Array(workerData.stats);
const lib = koffi.load('libc.so.6');
const Pollfd = koffi.struct('tsmp_pollfd', { fd: 'int', events: 'short', revents: 'short' });
const Timespec = koffi.struct('tsmp_timespec', { tv_sec: 'long', tv_nsec: 'long' });
const ppoll = lib.func('int ppoll(_Inout_ tsmp_pollfd *fds, unsigned long nfds, const tsmp_timespec *tmo, const void *sigmask)');
const read = lib.func('long read(int fd, void *buf, unsigned long count)');
const write = lib.func('long write(int fd, const void *buf, unsigned long count)');
const close = lib.func('int close(int fd)');
const prctl = lib.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)');
const EAGAIN = 11, EINTR = 4, POLLIN = 1, PR_SET_TIMERSLACK = 29;
prctl(PR_SET_TIMERSLACK, 1000, 0, 0, 0);
if (workerData.realtimePriority > 0) {
  // SCHED_FIFO for this thread only (pid 0 = the caller): on a busy machine an ordinary thread
  // woke up to tens of ms late; a real-time one preempts the load. It sleeps in ppoll between
  // packets, and the kernel's RT throttling bounds it even if it did not.
  const SchedParam = koffi.struct('tsmp_sched_param', { sched_priority: 'int' });
  const setsched = lib.func('int sched_setscheduler(int pid, int policy, const tsmp_sched_param *param)');
  stats[12] = setsched(0, 1, { sched_priority: workerData.realtimePriority }) === 0 ? 1 : 0;
}

const linkOf = new Map(subnets.map((s, i) => [s, i]));
let seed = workerData.seed >>> 0;
function random() {
  // mulberry32, a small well-known PRNG: repeatable Bernoulli loss for a given seed.
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const paths = new Map();
let heldBytes = 0, latenessSum = 0;
const S_IN = 0, S_OUT = 1, S_BYTES_IN = 2, S_LOSS = 3, S_OVERFLOW = 4, S_PASS = 5, S_PEAK = 6,
  S_LATE_MEAN = 7, S_LATE_MAX = 8, S_LATE_N = 9, S_HELD = 10, S_WRITE_ERR = 11;

function emit(pkt) {
  if (write(fd, pkt, pkt.length) === pkt.length) stats[S_OUT]++;
  else stats[S_WRITE_ERR]++;
}

function accept(pkt, now) {
  stats[S_IN]++;
  stats[S_BYTES_IN] += pkt.length;
  if (pkt.length < 20 || (pkt[0] >> 4) !== 4) { stats[S_PASS]++; emit(pkt); return; }
  const src = pkt.readUInt32BE(12) >>> 8, dst = pkt.readUInt32BE(16) >>> 8;
  const a = linkOf.get(src), b = linkOf.get(dst);
  if (a === undefined && b === undefined) { stats[S_PASS]++; emit(pkt); return; }
  const delay = (a === undefined ? 0 : params[a * 4]) + (b === undefined ? 0 : params[b * 4 + 1]);
  const keep = (a === undefined ? 1 : 1 - params[a * 4 + 2]) * (b === undefined ? 1 : 1 - params[b * 4 + 3]);
  if (keep < 1 && random() >= keep) { stats[S_LOSS]++; return; }
  if (delay <= 0) { emit(pkt); return; }
  if (heldBytes + pkt.length > maxQueueBytes) { stats[S_OVERFLOW]++; return; }
  const key = src * 16777216 + dst;
  let q = paths.get(key);
  if (!q) { q = { items: [], head: 0 }; paths.set(key, q); }
  const last = q.items[q.items.length - 1];
  let due = now + delay;
  // Never let a packet overtake its predecessor on the same path, even if the delay was lowered.
  if (last && q.head < q.items.length && last.due > due) due = last.due;
  q.items.push({ pkt, due });
  heldBytes += pkt.length;
  if (heldBytes > stats[S_PEAK]) stats[S_PEAK] = heldBytes;
}

function releaseDue(now) {
  let next = Infinity;
  for (const [key, q] of paths) {
    while (q.head < q.items.length && q.items[q.head].due <= now) {
      const h = q.items[q.head];
      q.items[q.head++] = undefined;
      heldBytes -= h.pkt.length;
      const late = now - h.due;
      stats[S_LATE_N]++;
      latenessSum += late;
      stats[S_LATE_MEAN] = latenessSum / stats[S_LATE_N];
      if (late > stats[S_LATE_MAX]) stats[S_LATE_MAX] = late;
      emit(h.pkt);
    }
    if (q.head === q.items.length) paths.delete(key);
    else {
      if (q.head > 1024) { q.items = q.items.slice(q.head); q.head = 0; }
      if (q.items[q.head].due < next) next = q.items[q.head].due;
    }
  }
  stats[S_HELD] = heldBytes;
  return next;
}

const buf = Buffer.alloc(65536);
const pfd = { fd, events: POLLIN, revents: 0 };
const ts = { tv_sec: 0, tv_nsec: 0 };
let state = 1;
outer: while (Atomics.load(ctrl, 0) === 0) {
  const next = releaseDue(performance.now());
  const wait = Math.min(idlePollMs, next - performance.now());
  if (wait > 0.005) {
    ts.tv_sec = Math.floor(wait / 1000);
    ts.tv_nsec = Math.floor((wait % 1000) * 1e6);
    pfd.revents = 0;
    ppoll(pfd, 1, ts, null);
  }
  // Drain what is readable, in kernel order, but go back to releasing after a bounded batch.
  for (let i = 0; i < 256; i++) {
    const n = read(fd, buf, buf.length);
    if (n > 0) { accept(Buffer.from(buf.subarray(0, n)), performance.now()); continue; }
    const errno = koffi.errno();
    if (n < 0 && errno !== EAGAIN && errno !== EINTR) { state = 2; break outer; }
    break;
  }
}
close(fd);
Atomics.store(ctrl, 1, state);
`;
