import { EventEmitter } from 'node:events';
import { nowMs } from '../../common/clock.js';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/logger.js';
import type { DeviceIdentity } from '../auth/device-authenticator.js';
import type { FrontProtocol } from '../front/types.js';
import { DeviceLink } from './device-link.js';
import { ReplayBuffer } from './replay-buffer.js';
import { UpstreamGate } from './upstream-gate.js';

export type ConnectionState = 'relaying' | 'migrating' | 'detached' | 'closed';

/**
 * What the relay uses of its server side: a `net.Socket`, or an M-TCP connection to a pool
 * (`MtcpClientConnection`, src/proxy/upstream/), whose `pause()` also stops reading the member.
 */
export type ServerSide = Pick<Duplex, 'on' | 'once' | 'pause' | 'resume' | 'write' | 'end' | 'destroy' | 'destroyed' | 'writableEnded'>;

/** Why the server side is not being read. Reading resumes only when no reason is left. */
type Hold = 'backpressure' | 'buffer' | 'migration' | 'detached';

export interface RelayOptions {
  /** Bytes of server data held for replay per connection; reading the server stops at it. */
  maxBuffer: number;
  /** Bytes read between two routine questions to the kernel about what the device acknowledged. */
  trimThreshold: number;
  /**
   * Also ask at a read when the last question is this old (ms; 0: only by bytes). A slow stream
   * would otherwise keep every chunk for `trimThreshold` bytes, seconds to minutes: each one
   * survives the young generation's collections, and copying them is what makes those pauses
   * long at 1,000 connections (docs/bench.md, "Migration at 1,000 connections").
   */
  trimIntervalMs?: number;
  /** How long a connection whose device vanished keeps its server side paused. */
  detachHoldMs: number;
  /** How long an old device may still send upstream after it was cut, before it is dropped. */
  letGoTimeoutMs: number;
  /** How long a FIN'd socket may take to close before it is destroyed. */
  closeGraceMs: number;
  /** Where released server chunks go back for reuse (read-block-pool.ts); none: left to the GC. */
  recycle?: (chunk: Buffer) => void;
}

/** A device socket whose handshake is done, ready to carry the tunnel. */
export interface AttachingDevice {
  identity: DeviceIdentity;
  protocol: FrontProtocol;
  socket: Socket;
  /** Bytes the handshake wrote to the socket (the tunnel starts after them). */
  preamble: number;
  /** Tunnel bytes the client sent behind its request. */
  head: Buffer;
  /** The client's FIN was already read (it came with the handshake, or in another worker). */
  ended?: boolean;
}

export interface Cutover {
  /** Server-stream offset where the new device's stream starts: what the old one acknowledged. */
  fromOffset: number;
  bytesReplayed: number;
  firstByteAt: number;
}

/**
 * One relayed TCP connection: a server-side socket, and the device-side socket of whichever
 * device holds it now. The relay owns its read loop (STYLE.md "Backpressure") so that it can
 * stop reading the server — the transient pause of DESIGN.md — and swap the device underneath.
 */
export class RelayConnection extends EventEmitter {
  readonly startedAt = Date.now();
  state: ConnectionState = 'relaying';
  device: DeviceLink | null = null;
  bytesUp = 0;
  private readonly replay: ReplayBuffer;
  private readonly holds = new Set<Hold>();
  private readonly gate: UpstreamGate;
  private serverEnded = false;
  private serverClosed = false;
  private upstreamEnded = false;
  private lostOffset = 0;
  private lettingGo: DeviceLink | null = null;
  /** The new holder half-closed while the old one was letting go: FIN after the gate's bytes. */
  private finAfterGate = false;
  private detachTimer: NodeJS.Timeout | undefined;
  private bufferTimer: NodeJS.Timeout | undefined;
  private bufferPollMs = 1;
  /** Server offset at which the next routine trim asks the kernel (once per `trimThreshold`). */
  private nextTrimAt = 0;
  /** When the kernel was last asked (ms, performance.now()), for `trimIntervalMs`. */
  private lastTrimAt = 0;

  constructor(
    readonly id: string,
    readonly uid: string,
    readonly destination: string,
    readonly protocol: FrontProtocol,
    private readonly server: ServerSide,
    first: AttachingDevice,
    private readonly options: RelayOptions,
    private readonly log: Logger,
  ) {
    super();
    this.replay = new ReplayBuffer(0, options.recycle);
    this.gate = new UpstreamGate(options.maxBuffer);
    // Nothing to release before the first `trimThreshold` bytes: a short request/response
    // connection never asks the kernel.
    this.nextTrimAt = options.trimThreshold;
    server.on('data', (chunk: Buffer) => this.onServerData(chunk));
    server.on('end', () => this.onServerEnd());
    server.on('drain', () => this.device?.socket.resume());
    server.on('error', (err) => this.log.debug({ conn: id, err: err.message }, 'server side error'));
    server.on('close', () => this.onServerClose());
    this.bindDevice(first, 0);
  }

  /** Bytes read from the server so far (server→device). */
  get bytesDown(): number {
    return this.replay.end;
  }

  /** Server bytes held for replay now; bounded by `maxBuffer` (plus at most one read). */
  get bytesBuffered(): number {
    return this.replay.size;
  }

  /** Server bytes the holder has not acknowledged: what a migration now would replay. */
  get bytesCached(): number {
    return this.replay.end - (this.device ? this.device.ackedOffset() : this.lostOffset);
  }

  /** Step 1 of a migration: stop reading the server; its window closes, nothing is lost. */
  pause(): void {
    if (this.state === 'closed') return;
    if (this.state === 'relaying') this.state = 'migrating';
    this.hold('migration');
  }

  /** The old device is done: everything handed to it was acknowledged, nothing more can come. */
  holderDrained(): boolean {
    return this.device?.isDrained() ?? false;
  }

  /**
   * Steps 2–4 of a migration: cut the old device at the offset its TCP acknowledged, give the new
   * device everything from there, then read the server again.
   */
  cutover(target: AttachingDevice): Cutover {
    const old = this.device;
    let fromOffset = this.lostOffset;
    this.clearDeviceHolds();
    if (old) {
      this.device = null;
      // A drained device received exactly what was written: a FIN lets its application finish
      // cleanly. Otherwise its acknowledged count is frozen and the rest of its queue reset away.
      const drained = old.isDrained();
      fromOffset = drained ? old.writtenOffset : old.ackedOffset();
      if (drained) old.endGracefully();
      else old.abort();
      this.startLetGo(old);
    }
    const link = this.bindDevice(target, fromOffset);
    let bytesReplayed = 0;
    let firstByteAt = 0;
    for (const chunk of this.replay.sliceFrom(fromOffset)) {
      if (!firstByteAt) firstByteAt = nowMs();
      bytesReplayed += chunk.length;
      link.written += chunk.length;
      if (!link.socket.write(chunk)) this.hold('backpressure');
    }
    if (this.serverEnded) link.socket.end();
    this.state = 'relaying';
    this.unhold('detached');
    this.unhold('migration');
    return { fromOffset, bytesReplayed, firstByteAt: firstByteAt || nowMs() };
  }

  /** A migration that did not complete: the holder goes on. False when there is none left. */
  rollback(): boolean {
    if (this.state === 'closed') return false;
    if (!this.device) return false;
    this.state = 'relaying';
    this.unhold('migration');
    return true;
  }

  /** Ends both sides with FINs (never a reset towards the server), then frees everything. */
  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.log.debug({ conn: this.id, reason }, 'connection closed');
    clearTimeout(this.detachTimer);
    clearTimeout(this.bufferTimer);
    for (const link of [this.device, this.lettingGo]) {
      if (!link) continue;
      link.release();
      endThenDestroy(link.socket, this.options.closeGraceMs);
    }
    this.device = null;
    this.lettingGo = null;
    // Read (and drop) what the server still sends so its FIN, and then the close, can arrive.
    this.server.resume();
    endThenDestroy(this.server, this.options.closeGraceMs);
    this.emit('closed', reason);
  }

  private bindDevice(dev: AttachingDevice, startOffset: number): DeviceLink {
    const link = new DeviceLink(dev.identity, dev.protocol, dev.socket, dev.preamble, startOffset);
    this.device = link;
    const socket = dev.socket;
    socket.on('data', (chunk: Buffer) => this.onDeviceData(link, chunk));
    socket.on('end', () => this.onDeviceEnd(link));
    socket.on('drain', () => {
      if (link === this.device) {
        this.trim();
        this.unhold('backpressure');
      }
    });
    socket.on('error', (err) => this.log.debug({ conn: this.id, err: err.message }, 'device side error'));
    socket.on('close', () => this.onDeviceClose(link));
    if (dev.head.length > 0) this.onDeviceData(link, dev.head);
    // A FIN that arrived during the handshake was consumed already; no 'end' event will follow.
    if (socket.readableEnded || dev.ended) this.onDeviceEnd(link);
    socket.resume();
    return link;
  }

  private onServerData(chunk: Buffer): void {
    if (this.state === 'closed') return; // draining a server we are closing: nobody to give it to
    this.replay.append(chunk);
    const link = this.device;
    if (link) {
      link.written += chunk.length;
      if (!link.socket.write(chunk)) this.hold('backpressure');
    }
    // Ask the kernel once per `trimThreshold` bytes read, at every read once the bound is
    // reached, and at a read `trimIntervalMs` after the last question: a device with a large
    // window must not cost a getsockopt per chunk, nor a slow stream keep its chunks for long.
    const o = this.options;
    if (
      this.replay.end >= this.nextTrimAt ||
      this.replay.size >= o.maxBuffer ||
      (o.trimIntervalMs !== undefined && o.trimIntervalMs > 0 && performance.now() - this.lastTrimAt >= o.trimIntervalMs)
    ) {
      this.trim();
    }
  }

  /** Releases what the device acknowledged; stops reading the server at the buffer's bound. */
  private trim(): void {
    this.nextTrimAt = this.replay.end + this.options.trimThreshold;
    this.lastTrimAt = performance.now();
    const link = this.device;
    if (!link) return; // no holder: the server is held anyway, nothing to release
    this.replay.release(link.ackedOffset());
    if (this.replay.size < this.options.maxBuffer) {
      this.bufferPollMs = 1;
      this.unhold('buffer');
      return;
    }
    this.hold('buffer');
    if (!this.bufferTimer) {
      // The kernel has no "acknowledged" event; poll with backoff while the device catches up.
      this.bufferTimer = setTimeout(() => {
        this.bufferTimer = undefined;
        if (this.state !== 'closed') this.trim();
      }, this.bufferPollMs);
      this.bufferPollMs = Math.min(this.bufferPollMs * 2, 50);
    }
  }

  private onServerEnd(): void {
    this.serverEnded = true;
    this.device?.socket.end();
  }

  private onServerClose(): void {
    this.serverClosed = true;
    if (!this.serverEnded) {
      // Reset or error from the server: nothing more will come; end the device after what it has.
      this.serverEnded = true;
      this.device?.socket.end();
    }
    if (!this.device && this.state !== 'migrating') this.close('server closed');
  }

  private onDeviceData(link: DeviceLink, chunk: Buffer): void {
    link.received += chunk.length;
    if (link !== this.device && link !== this.lettingGo) return;
    if (this.upstreamEnded) return; // the holder half-closed before; the server read its FIN
    if (link === this.device && this.lettingGo) {
      this.gate.hold(chunk, link.socket);
      return;
    }
    if (!this.writeUpstream(chunk)) link.socket.pause();
  }

  private writeUpstream(chunk: Buffer): boolean {
    this.bytesUp += chunk.length;
    return this.server.write(chunk);
  }

  private onDeviceEnd(link: DeviceLink): void {
    if (link === this.lettingGo) {
      this.finishLetGo(link);
      return;
    }
    // An ordinary half-close by the holder: the server gets the FIN (issue 2), after every byte
    // the gate still holds for it.
    if (link === this.device && !this.upstreamEnded) {
      if (this.lettingGo) this.finAfterGate = true;
      else this.endUpstream();
    }
  }

  private onDeviceClose(link: DeviceLink): void {
    if (link === this.lettingGo) {
      this.finishLetGo(link);
      return;
    }
    if (link !== this.device) return;
    if (this.serverClosed || (this.serverEnded && this.upstreamEnded)) {
      this.close('both sides finished');
      return;
    }
    this.detach(link);
  }

  /** The holder vanished (reset, error, keepalive): keep the server paused for a while. */
  private detach(link: DeviceLink): void {
    this.lostOffset = link.startOffset + link.release();
    this.replay.release(this.lostOffset);
    this.device = null;
    this.clearDeviceHolds();
    this.hold('detached');
    if (this.state === 'migrating') return; // the migration's own timeout decides
    this.state = 'detached';
    this.emit('detached');
    clearTimeout(this.detachTimer);
    this.detachTimer = setTimeout(() => {
      if (this.state === 'detached') this.close('detach hold expired');
    }, this.options.detachHoldMs);
  }

  private startLetGo(old: DeviceLink): void {
    if (old.socket.destroyed) return;
    this.lettingGo = old;
    const timer = setTimeout(() => {
      if (this.lettingGo === old) {
        old.socket.destroy();
        this.finishLetGo(old);
      }
    }, this.options.letGoTimeoutMs);
    old.socket.once('close', () => clearTimeout(timer));
  }

  private finishLetGo(old: DeviceLink): void {
    if (this.lettingGo !== old) return;
    this.lettingGo = null;
    if (!old.socket.destroyed) old.socket.destroy();
    this.gate.open((chunk) => this.writeUpstream(chunk), this.device?.socket);
    if (this.finAfterGate) {
      this.finAfterGate = false;
      this.endUpstream();
    }
  }

  private endUpstream(): void {
    if (this.upstreamEnded) return;
    this.upstreamEnded = true;
    // A server socket that got the server's FIN without allowHalfOpen has ended itself already;
    // a second end() builds an ERR_STREAM_ALREADY_FINISHED error (1.8 % of a connection-rate
    // profile) only to discard it.
    if (!this.server.writableEnded) this.server.end();
  }

  /** Holds that belong to the device being replaced; its successor sets its own. */
  private clearDeviceHolds(): void {
    this.holds.delete('backpressure');
    this.holds.delete('buffer');
    clearTimeout(this.bufferTimer);
    this.bufferTimer = undefined;
  }

  private hold(reason: Hold): void {
    if (this.holds.size === 0) this.server.pause();
    this.holds.add(reason);
  }

  private unhold(reason: Hold): void {
    if (!this.holds.delete(reason)) return;
    if (this.holds.size === 0 && this.state !== 'closed') this.server.resume();
  }
}

function endThenDestroy(socket: ServerSide, graceMs: number): void {
  if (socket.destroyed) return;
  if (!socket.writableEnded) socket.end();
  const timer = setTimeout(() => socket.destroy(), graceMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

