import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { patternMismatch } from './source-protocol.js';

/**
 * Reads one device's share of a migrated pattern stream and checks every byte. A new device's
 * start offset is only known once its migration reports `fromOffset`; bytes that arrive before
 * that are kept (bounded) and checked then.
 */
export class StreamReader {
  received = 0;
  /** Bytes that were not the pattern at their offset (must stay 0). */
  wrong = 0;
  firstByteAt = 0;
  readonly closed: Promise<void>;
  private offset: number | null;
  private early: Buffer[] = [];
  private earlyBytes = 0;

  constructor(
    readonly socket: Socket,
    startOffset: number | null,
    private readonly maxEarlyBytes = 1 << 20,
  ) {
    this.offset = startOffset;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.resume();
  }

  /** Stream offset after the last byte received; null until the start is known. */
  get endOffset(): number | null {
    return this.offset;
  }

  /** The stream offset this device's first byte stands at (the old device's acknowledged count). */
  startAt(offset: number): void {
    if (this.offset !== null) return;
    this.offset = offset;
    for (const chunk of this.early) this.check(chunk);
    this.early = [];
  }

  private onData(d: Buffer): void {
    if (!this.firstByteAt) this.firstByteAt = performance.now();
    this.received += d.length;
    if (this.offset === null) {
      this.earlyBytes += d.length;
      if (this.earlyBytes <= this.maxEarlyBytes) this.early.push(d);
      else this.wrong += d.length; // never happens at these rates; counted rather than held
      return;
    }
    this.check(d);
  }

  private check(d: Buffer): void {
    const at = patternMismatch(d, this.offset!);
    if (at >= 0) this.wrong += d.length - at;
    this.offset! += d.length;
  }
}
