import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { silentLogger, type Logger } from '../common/logger.js';
import { NetemConfigError } from './errors.js';
import { FORWARDER_WORKER_JS } from './forwarder-worker-source.js';

/** Default bound on the bytes one forwarder holds: 1 Gbit/s × 64 ms. */
export const DEFAULT_DELAY_QUEUE_BYTES = 8 << 20;
/** How long the worker sleeps at most when idle, so a stop is noticed quickly. */
const IDLE_POLL_MS = 20;

/** The per-direction impairment of one host's link, as the forwarder applies it. */
export interface LinkImpairment {
  /** The link's /24, `address >>> 8`. */
  subnet: number;
  /** One-way delay host → router, ms. */
  upDelayMs: number;
  /** One-way delay router → host, ms. */
  downDelayMs: number;
  /** Probability in [0, 1) that a packet host → router is lost. */
  upLoss: number;
  downLoss: number;
}

export interface DelayForwarderOptions {
  /** Bound on the bytes held while delayed; beyond it packets are tail-dropped. @default DEFAULT_DELAY_QUEUE_BYTES */
  maxQueueBytes?: number;
  /** Seed of the loss generator, so lossy runs are repeatable. @default 1 */
  seed?: number;
  /**
   * SCHED_FIFO priority of the forwarder thread (needs root); 0 leaves it an ordinary thread.
   * @default 10
   */
  realtimePriority?: number;
}

export interface ForwarderStats {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  droppedLoss: number;
  droppedOverflow: number;
  /** Packets not between known links (or not IPv4), forwarded without delay. */
  passedThrough: number;
  peakQueueBytes: number;
  heldBytes: number;
  writeErrors: number;
  /** Release time minus due time, ms: how late the forwarder let packets go. */
  lateness: { mean: number; max: number; count: number };
  /** Whether the thread got real-time scheduling. */
  realtime: boolean;
}

const STAT_COUNT = 13;

function validate(l: LinkImpairment): void {
  for (const p of [l.upLoss, l.downLoss]) {
    if (!(p >= 0 && p < 1)) throw new NetemConfigError(`loss ${p} outside [0, 1)`);
  }
  for (const d of [l.upDelayMs, l.downDelayMs]) {
    if (!(d >= 0 && d <= 60_000)) throw new NetemConfigError(`delay ${d} ms outside 0..60000`);
  }
}

/**
 * User-space delay and loss on a TUN device (this kernel has no netem). The router sends every
 * packet between hosts into the TUN; the forwarder holds each one for up(src link) + down(dst
 * link) ms, drops it with the links' loss probability, and writes it back, after which the router
 * forwards it by its main table. The work runs in a worker thread (see forwarder-worker-source.ts)
 * so neither its timing nor the caller's event loop disturbs the other.
 */
export class DelayForwarder {
  private readonly worker: Worker;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(8));
  private readonly params: Float64Array;
  private readonly statsView = new Float64Array(new SharedArrayBuffer(STAT_COUNT * 8));
  private readonly index = new Map<number, number>();
  private stopped = false;

  /** Takes ownership of `fd` (a non-blocking TUN descriptor): the worker closes it when it stops. */
  constructor(fd: number, links: readonly LinkImpairment[], options: DelayForwarderOptions = {}, private readonly log: Logger = silentLogger) {
    const maxQueueBytes = options.maxQueueBytes ?? DEFAULT_DELAY_QUEUE_BYTES;
    if (!(maxQueueBytes >= 1514)) throw new NetemConfigError(`maxQueueBytes ${maxQueueBytes} below one frame`);
    this.params = new Float64Array(new SharedArrayBuffer(Math.max(1, links.length) * 4 * 8));
    links.forEach((l, i) => {
      this.index.set(l.subnet, i);
      this.setParams(i, l);
    });
    this.worker = new Worker(FORWARDER_WORKER_JS, {
      eval: true,
      workerData: {
        fd, subnets: links.map((l) => l.subnet), maxQueueBytes, seed: options.seed ?? 1, realtimePriority: options.realtimePriority ?? 10, idlePollMs: IDLE_POLL_MS,
        koffiPath: createRequire(import.meta.url).resolve('koffi'),
        ctrl: this.ctrl.buffer, params: this.params.buffer, stats: this.statsView.buffer,
      },
    });
    // The worker must never keep a process alive on its own; `stop()` ends it within IDLE_POLL_MS.
    this.worker.unref();
    this.worker.on('error', (err) => this.log.error({ err }, 'delay forwarder failed'));
  }

  /** Changes a link's delay or loss while packets flow; held packets keep their release time. */
  update(link: LinkImpairment): void {
    const i = this.index.get(link.subnet);
    if (i === undefined) throw new NetemConfigError(`forwarder has no link for subnet ${link.subnet}`);
    this.setParams(i, link);
  }

  private setParams(i: number, l: LinkImpairment): void {
    validate(l);
    this.params.set([l.upDelayMs, l.downDelayMs, l.upLoss, l.downLoss], i * 4);
  }

  get stats(): ForwarderStats {
    const s = this.statsView;
    return {
      packetsIn: s[0]!, packetsOut: s[1]!, bytesIn: s[2]!, droppedLoss: s[3]!, droppedOverflow: s[4]!,
      passedThrough: s[5]!, peakQueueBytes: s[6]!, heldBytes: s[10]!, writeErrors: s[11]!,
      lateness: { mean: s[7]!, max: s[8]!, count: s[9]! }, realtime: s[12] === 1,
    };
  }

  /** 0 while running, 1 after a stop, 2 when the TUN failed (e.g. it went away). */
  get exitState(): number {
    return Atomics.load(this.ctrl, 1);
  }

  /** Asks the worker to stop and close the TUN; synchronous, it finishes within IDLE_POLL_MS. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.ctrl, 0, 1);
  }

  /** Stops and waits until the worker has closed the TUN. */
  async close(timeoutMs = 2000): Promise<void> {
    this.stop();
    const deadline = Date.now() + timeoutMs;
    while (this.exitState === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await this.worker.terminate();
  }
}
