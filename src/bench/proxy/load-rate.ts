import { performance } from 'node:perf_hooks';
import { TimeoutError } from '../../common/errors.js';
import { dial } from './socks-dial.js';
import { MODE, REQUEST_BYTES, RESPONSE_BYTES } from './source-protocol.js';
import type { Target } from './targets.js';

export interface RateArgs {
  target: Target;
  /** Connections in flight at any moment. */
  concurrency: number;
  durationMs: number;
  /** Bound on one whole connection (connect, handshake, request, response, close). */
  timeoutMs: number;
}

export interface RateResult {
  completed: number;
  errors: number;
  seconds: number;
  perSecond: number;
  /** Median time of one whole connection, ms. */
  p50Ms: number;
}

const REQUEST = Buffer.alloc(REQUEST_BYTES, 0x71);
REQUEST[0] = MODE.request;

/** One connection: connect, handshake (tsmp), one small request/response, close. */
async function oneConnection(target: Target, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const { socket } = await dial(target, timeoutMs);
  await new Promise<void>((resolve, reject) => {
    let got = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TimeoutError(`request through ${target.kind}`, timeoutMs));
    }, Math.max(1, deadline - performance.now()));
    socket.on('data', (d: Buffer) => (got += d.length));
    // The server answers then FINs; our end is sent automatically (allowHalfOpen is off).
    socket.once('close', () => {
      clearTimeout(timer);
      if (got === RESPONSE_BYTES) resolve();
      else reject(new Error(`short response through ${target.kind}: ${got} bytes`));
    });
    socket.write(REQUEST);
    socket.resume();
  });
}

/** Connections per second at fixed concurrency over a bounded duration. */
export async function runRate(args: RateArgs): Promise<RateResult> {
  const t0 = performance.now();
  const end = t0 + args.durationMs;
  let completed = 0;
  let errors = 0;
  const samples: number[] = [];
  const worker = async () => {
    while (performance.now() < end) {
      const s = performance.now();
      try {
        await oneConnection(args.target, args.timeoutMs);
        completed++;
        if (samples.length < 100_000) samples.push(performance.now() - s);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  samples.sort((a, b) => a - b);
  return { completed, errors, seconds, perSecond: completed / seconds, p50Ms: samples[Math.floor(samples.length / 2)] ?? 0 };
}
