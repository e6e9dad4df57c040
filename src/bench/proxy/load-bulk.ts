import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProxyBenchError } from './errors.js';
import { closeGracefully } from './graceful-close.js';
import { dial, mapLimit } from './socks-dial.js';
import { MODE } from './source-protocol.js';
import type { Target } from './targets.js';

export interface BulkArgs {
  target: Target;
  connections: number;
  /** Time let pass after the streams start, before counting (slow start, JIT). */
  warmupMs: number;
  durationMs: number;
  dialTimeoutMs: number;
}

export interface BulkResult {
  connections: number;
  bytes: number;
  seconds: number;
  /** Bytes per second received by the load generator, all connections together. */
  bytesPerSecond: number;
  /** Connections that did not close within the bound after our FIN (must be 0). */
  unclosed: number;
}

/**
 * Bulk throughput, server → client: every connection is opened (and its SOCKS5 handshake done)
 * before the clock starts; then all ask for a stream at once and the bytes received in a fixed
 * window after a warm-up are counted.
 */
export async function runBulk(args: BulkArgs): Promise<BulkResult> {
  const dialed = await mapLimit(Array.from({ length: args.connections }), 100, () => dial(args.target, args.dialTimeoutMs));
  let bytes = 0;
  let broken = 0;
  let measuring = true;
  try {
    for (const { socket } of dialed) {
      socket.on('data', (d: Buffer) => (bytes += d.length));
      socket.once('close', () => {
        if (measuring) broken++;
      });
      socket.write(Buffer.from([MODE.bulk]));
      socket.resume();
    }
    await sleep(args.warmupMs);
    const b0 = bytes;
    const t0 = performance.now();
    await sleep(args.durationMs);
    const b1 = bytes;
    const seconds = (performance.now() - t0) / 1000;
    measuring = false;
    if (broken > 0) throw new ProxyBenchError(`${broken} bulk connection(s) through ${args.target.kind} closed during the measurement`);
    const unclosed = await closeGracefully(dialed.map((d) => d.socket), args.dialTimeoutMs);
    return { connections: args.connections, bytes: b1 - b0, seconds, bytesPerSecond: (b1 - b0) / seconds, unclosed };
  } finally {
    measuring = false;
    for (const { socket } of dialed) socket.destroy();
  }
}
