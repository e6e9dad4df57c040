import type { Socket } from 'node:net';
import { encodeFrame, encodeHeader, FrameDecoder } from '../wire/frame-codec.js';
import { DATA_CHUNK_BYTES, FrameType, type Frame } from '../wire/frame-types.js';

export interface TransportEvents {
  onFrame(frame: Frame): void;
  /** The socket is gone: reset, closed, or a protocol error. */
  onLost(err?: Error): void;
  onDrain(): void;
}

/**
 * The framed socket under one migratory session while a client is attached. Sends a HEARTBEAT
 * when it has been quiet for `heartbeatMs`, so that on the client side silence means failure
 * (issue 5, trigger "falls silent past a timeout").
 */
export class SessionTransport {
  private lastSent = Date.now();
  private readonly timer: NodeJS.Timeout;
  private lost = false;

  constructor(
    readonly socket: Socket,
    private readonly decoder: FrameDecoder,
    private readonly events: TransportEvents,
    heartbeatMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => events.onDrain());
    socket.on('error', (err) => this.lose(err));
    socket.on('close', () => this.lose());
    socket.on('end', () => this.lose());
    this.timer = setInterval(() => {
      if (Date.now() - this.lastSent >= heartbeatMs) this.send(encodeFrame(FrameType.HEARTBEAT));
    }, Math.max(10, Math.floor(heartbeatMs / 2)));
    this.timer.unref();
  }

  get isLost(): boolean {
    return this.lost;
  }

  /** Feeds bytes that arrived together with the hello. */
  feed(rest: Buffer): void {
    if (rest.length > 0) this.onData(rest);
  }

  private onData(chunk: Buffer): void {
    if (this.lost) return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.lose(err as Error);
      return;
    }
    for (const f of frames) {
      if (this.lost) return;
      this.events.onFrame(f);
    }
  }

  send(frame: Buffer): boolean {
    if (this.lost) return false;
    this.lastSent = Date.now();
    return this.socket.write(frame);
  }

  /** Application bytes as DATA frames of at most DATA_CHUNK_BYTES; false when the socket is full. */
  sendData(chunks: Buffer[]): boolean {
    let ok = true;
    for (const c of chunks) {
      for (let off = 0; off < c.length; off += DATA_CHUNK_BYTES) {
        const part = c.subarray(off, Math.min(c.length, off + DATA_CHUNK_BYTES));
        if (this.lost) return false;
        this.socket.cork();
        this.socket.write(encodeHeader(FrameType.DATA, part.length));
        ok = this.socket.write(part);
        this.socket.uncork();
      }
    }
    this.lastSent = Date.now();
    return ok;
  }

  get writableFull(): boolean {
    return this.socket.writableNeedDrain;
  }

  pauseReading(): void {
    this.socket.pause();
  }
  resumeReading(): void {
    this.socket.resume();
  }

  /** Closes without telling the session (it is the one closing). */
  close(graceful: boolean): void {
    this.lost = true;
    clearInterval(this.timer);
    if (graceful) this.socket.end();
    else this.socket.destroy();
  }

  private lose(err?: Error): void {
    if (this.lost) return;
    this.lost = true;
    clearInterval(this.timer);
    this.socket.destroy();
    this.events.onLost(err);
  }
}
