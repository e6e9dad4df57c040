import { BufferLimitError } from '../../common/errors.js';

/**
 * Bytes of one direction of a stream between two offsets [start, end): the sender's copy of what
 * the receiver has not yet confirmed. Appending moves `end`; `trimTo` drops confirmed bytes and
 * moves `start`. Bounded: appending past `limit` throws, so callers check `room` first.
 */
export class ByteWindow {
  private chunks: Buffer[] = [];
  private _start: number;
  private _end: number;

  constructor(readonly limit: number, start = 0) {
    this._start = start;
    this._end = start;
  }

  get start(): number {
    return this._start;
  }
  get end(): number {
    return this._end;
  }
  get length(): number {
    return this._end - this._start;
  }
  get room(): number {
    return Math.max(0, this.limit - this.length);
  }

  append(chunk: Buffer): void {
    if (this.length + chunk.length > this.limit) throw new BufferLimitError('retained stream bytes', this.limit);
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this._end += chunk.length;
  }

  /** Forgets bytes below `offset` (clamped to the window). */
  trimTo(offset: number): void {
    let drop = Math.min(offset, this._end) - this._start;
    while (drop > 0 && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      if (first.length <= drop) {
        this.chunks.shift();
        this._start += first.length;
        drop -= first.length;
      } else {
        this.chunks[0] = first.subarray(drop);
        this._start += drop;
        drop = 0;
      }
    }
  }

  /** The bytes [from, to) as chunks without copying; both ends are clamped to the window. */
  slice(from = this._start, to = this._end): Buffer[] {
    const out: Buffer[] = [];
    let pos = this._start;
    const lo = Math.max(from, this._start);
    const hi = Math.min(to, this._end);
    for (const c of this.chunks) {
      const cEnd = pos + c.length;
      if (cEnd > lo && pos < hi) out.push(c.subarray(Math.max(0, lo - pos), Math.min(c.length, hi - pos)));
      pos = cEnd;
      if (pos >= hi) break;
    }
    return out;
  }

  /** Restarts the window empty at `offset` (after a resume whose state starts there). */
  reset(offset: number): void {
    this.chunks = [];
    this._start = offset;
    this._end = offset;
  }
}
