import { MtcpProtocolError } from '../errors.js';
import { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES, isFrameType, FrameType, type Frame, type FrameTypeCode } from './frame-types.js';

/** Builds one frame (header + payload). See the diagram in frame-types.ts. */
export function encodeFrame(type: FrameTypeCode, payload: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out[0] = type;
  out.writeUInt32BE(payload.length, 1);
  payload.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/** Header only, for DATA frames written as two buffers without copying the payload. */
export function encodeHeader(type: FrameTypeCode, length: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  out[0] = type;
  out.writeUInt32BE(length, 1);
  return out;
}

export function encodeJsonFrame(type: FrameTypeCode, body: unknown): Buffer {
  return encodeFrame(type, Buffer.from(JSON.stringify(body), 'utf8'));
}

/** Offsets are byte counts of one direction; 8 bytes big-endian, below 2^53. */
export function encodeOffsetFrame(type: typeof FrameType.ACK | typeof FrameType.COMMIT, offset: number): Buffer {
  const payload = Buffer.allocUnsafe(8);
  payload.writeBigUInt64BE(BigInt(offset));
  return encodeFrame(type, payload);
}

export function decodeOffset(payload: Buffer): number {
  if (payload.length !== 8) throw new MtcpProtocolError(`offset payload must be 8 bytes, got ${payload.length}`);
  const v = payload.readBigUInt64BE();
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new MtcpProtocolError('offset out of range');
  return Number(v);
}

export interface FrameDecoderOptions {
  /**
   * Hand DATA payloads over in pieces as they arrive (each piece a view of a socket read, never a
   * copy) instead of reassembling a frame that spans reads. A 64 KiB frame almost always spans
   * two reads, so whole frames cost a 64 KiB copy each. Only for receivers that treat DATA as a
   * byte stream (they all do); control frames always come whole.
   */
  streamData?: boolean;
}

/**
 * Incremental frame parser: feed it chunks as they come off the socket, get frames back (whole,
 * or DATA in pieces with `streamData`). Pure (no I/O). Rejects unknown types and payloads over
 * `maxFrameBytes` before buffering them, so a peer cannot make it hold more than one bounded frame.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** `streamData`: bytes of the current DATA payload still to hand over. */
  private dataLeft = 0;
  private readonly streamData: boolean;

  constructor(
    private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
    opts: FrameDecoderOptions = {},
  ) {
    this.streamData = opts.streamData ?? false;
  }

  /** Bytes held that do not yet make a whole frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.dataLeft > 0) {
        if (this.buffered === 0) return frames;
        // At most what the first buffered chunk holds: a view, no copy.
        const n = Math.min(this.chunks[0]!.length, this.dataLeft);
        this.dataLeft -= n;
        frames.push({ type: FrameType.DATA, payload: this.take(n) });
        continue;
      }
      if (this.buffered < FRAME_HEADER_BYTES) return frames;
      const head = this.peek(FRAME_HEADER_BYTES);
      const type = head[0]!;
      const length = head.readUInt32BE(1);
      if (!isFrameType(type)) throw new MtcpProtocolError(`unknown frame type 0x${type.toString(16)}`);
      if (length > this.maxFrameBytes) throw new MtcpProtocolError(`frame of ${length} bytes exceeds the bound of ${this.maxFrameBytes}`);
      if (this.streamData && type === FrameType.DATA && length > 0) {
        this.take(FRAME_HEADER_BYTES);
        this.dataLeft = length;
        continue;
      }
      if (this.buffered < FRAME_HEADER_BYTES + length) return frames;
      this.take(FRAME_HEADER_BYTES);
      frames.push({ type, payload: this.take(length) });
    }
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return this.copyOut(n, false);
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      this.buffered -= n;
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return first.subarray(0, n);
    }
    return this.copyOut(n, true);
  }

  /** Copies exactly n bytes from the head chunks (never the whole backlog), consuming them if asked. */
  private copyOut(n: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const c = this.chunks[i]!;
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (consume) {
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      } else i++;
    }
    if (consume) this.buffered -= n;
    return out;
  }
}
