import { TsmpError } from '../../common/errors.js';

/** A replay was asked from an offset the buffer already released (or never held). */
export class ReplayRangeError extends TsmpError {
  constructor(from: number, start: number, end: number) {
    super('ERR_REPLAY_RANGE', `replay from offset ${from} is outside the held range [${start}, ${end}]`);
  }
}

/**
 * The server→device bytes that the current device may not have acknowledged yet, addressed by
 * their offset in the server's stream. The relay appends what it reads from the server and
 * releases what the device's TCP acknowledged; a migration replays from the old device's
 * acknowledged offset (DESIGN.md "The data plane", Cache).
 *
 * Chunks are kept as the relay read them; only the first chunk of a replay may be sliced. A chunk
 * dropped whole is handed to `recycle` (the server side's read-block pool, read-block-pool.ts), so
 * its memory is reused for a later read instead of waiting for a mark-compact.
 */
export class ReplayBuffer {
  private readonly chunks: Buffer[] = [];
  private head = 0; // index of the first live chunk (avoids Array#shift on every release)
  private headSkip = 0; // bytes of chunks[head] already released
  private startOffset: number;
  private endOffset: number;

  constructor(
    initialOffset = 0,
    private readonly recycle?: (chunk: Buffer) => void,
  ) {
    this.startOffset = initialOffset;
    this.endOffset = initialOffset;
  }

  /** Stream offset of the first byte held. */
  get start(): number {
    return this.startOffset;
  }

  /** Stream offset one past the last byte held (= bytes read from the server so far). */
  get end(): number {
    return this.endOffset;
  }

  get size(): number {
    return this.endOffset - this.startOffset;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.endOffset += chunk.length;
  }

  /** Drops every byte below `offset` (clamped to what is held). */
  release(offset: number): void {
    const target = Math.min(offset, this.endOffset);
    while (target > this.startOffset) {
      const chunk = this.chunks[this.head]!;
      const left = chunk.length - this.headSkip;
      const drop = Math.min(left, target - this.startOffset);
      this.startOffset += drop;
      if (drop === left) {
        this.recycle?.(chunk);
        this.chunks[this.head] = undefined as unknown as Buffer;
        this.head++;
        this.headSkip = 0;
      } else {
        this.headSkip += drop;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The held bytes from `offset` to the end, as a list of buffers (shared, not copied). */
  sliceFrom(offset: number): Buffer[] {
    if (offset < this.startOffset || offset > this.endOffset) {
      throw new ReplayRangeError(offset, this.startOffset, this.endOffset);
    }
    const out: Buffer[] = [];
    let skip = offset - this.startOffset + this.headSkip;
    for (let i = this.head; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      out.push(skip > 0 ? chunk.subarray(skip) : chunk);
      skip = 0;
    }
    return out;
  }
}
