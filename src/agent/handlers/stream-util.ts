import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TimeoutError } from '../../common/errors.js';

/**
 * Byte counters for a stream a handler owns. A resumed stream is normally a net.Socket whose
 * counters already include the SOCKS handshake, so the baseline is taken when the handler starts.
 */
export function byteCounter(stream: Duplex): () => { bytesIn: number; bytesOut: number } {
  if (stream instanceof Socket) {
    const readBase = stream.bytesRead;
    const writeBase = stream.bytesWritten;
    return () => ({ bytesIn: stream.bytesRead - readBase, bytesOut: stream.bytesWritten - writeBase });
  }
  return () => ({ bytesIn: 0, bytesOut: 0 });
}

/** Settles when `stream` is closed (or already was). */
export function whenClosed(stream: Duplex): Promise<void> {
  if (stream.destroyed || stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

/**
 * Ends our side of `stream` and waits for the peer to finish too, discarding what it still sends,
 * so that closing never resets a connection whose last bytes are still in flight (a close with
 * unread data makes Linux send RST). Bounded by `timeoutMs`, then destroyed.
 */
export async function endGracefully(stream: Duplex, timeoutMs: number): Promise<void> {
  if (stream.destroyed) return;
  stream.end();
  if (stream.readableEnded) {
    await whenClosedWithin(stream, timeoutMs);
    return;
  }
  stream.resume();
  await whenClosedWithin(stream, timeoutMs);
}

async function whenClosedWithin(stream: Duplex, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    whenClosed(stream),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        stream.destroy();
        resolve();
      }, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

/** Rejects with a TimeoutError after `ms` unless `promise` settles first. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
