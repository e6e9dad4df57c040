import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { MtcpSession, SessionCloseReason } from './session-types.js';

/**
 * A client that did not send the M-TCP preamble: a thin adapter over the socket, no migration
 * (issue 5: "for those clients there is simply no migration"). Snapshots are ignored.
 */
export class PlainSession extends EventEmitter implements MtcpSession {
  readonly id = `plain-${randomUUID()}`;
  readonly migratory = false;
  readonly importedState = undefined;
  private written = 0;
  private consumed = 0;
  private paused = false;
  private gated = false;
  private queue: Buffer[] = [];
  private closed = false;
  private inputEnded = false;
  private endEmitted = false;

  constructor(private readonly socket: Socket, head: Buffer) {
    super();
    socket.on('data', (chunk: Buffer) => this.deliver(chunk));
    socket.on('end', () => {
      this.inputEnded = true;
      this.flush();
    });
    socket.on('drain', () => this.emit('drain'));
    socket.on('error', () => {});
    socket.on('close', () => this.finish(this.inputEnded ? 'finished' : 'abandoned'));
    if (head.length > 0) setImmediate(() => this.deliver(head));
  }

  get bytesWritten(): number {
    return this.written;
  }
  get bytesConsumed(): number {
    return this.consumed;
  }
  get isPaused(): boolean {
    return this.paused;
  }
  get destroyed(): boolean {
    return this.closed;
  }

  write(data: Buffer | string): boolean {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    this.written += buf.length;
    if (this.closed) return false;
    return this.socket.write(buf);
  }
  end(): void {
    if (!this.closed) this.socket.end();
  }
  exportSnapshot(_state: unknown): void {}
  pause(): void {
    this.paused = true;
    this.socket.pause();
  }
  resume(): void {
    this.paused = false;
    this.socket.resume();
    setImmediate(() => this.flush());
  }
  unshift(data: Buffer): void {
    this.consumed -= data.length;
    this.queue.unshift(data);
  }
  destroy(): void {
    this.socket.destroy();
    this.finish('destroyed');
  }

  private deliver(chunk: Buffer): void {
    this.queue.push(chunk);
    this.flush();
  }

  /** Holds input back until the connection handler has set itself up (server/mtcp-server.ts). */
  gate(closed: boolean): void {
    this.gated = closed;
    if (!closed) this.flush();
  }

  private flush(): void {
    if (this.gated) return;
    while (!this.paused && this.queue.length > 0) {
      const c = this.queue.shift()!;
      this.consumed += c.length;
      this.emit('data', c);
    }
    if (!this.paused && this.queue.length === 0 && this.inputEnded && !this.endEmitted) {
      this.endEmitted = true;
      this.emit('end');
    }
  }

  private finish(reason: SessionCloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', reason);
  }
}
