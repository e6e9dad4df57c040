import { EventEmitter } from 'node:events';
import type { Logger } from '../../common/logger.js';
import { BufferLimitError } from '../../common/errors.js';
import { ByteWindow } from '../util/byte-window.js';
import { encodeFrame, encodeJsonFrame, encodeOffsetFrame, decodeOffset } from '../wire/frame-codec.js';
import { FrameType, type Frame } from '../wire/frame-types.js';
import { sealRecord, type SnapshotRecord } from '../state/snapshot-record.js';
import type { SnapshotStore } from '../state/snapshot-store.js';
import type { SessionTransport } from './session-transport.js';
import type { MtcpSession, SessionCloseReason } from './session-types.js';

type PendingSnapshot = Omit<SnapshotRecord, 'mac' | 'unacked' | 'owner'> & { unackedChunks: Buffer[] };

export interface SessionLimits {
  /** write() returns false past this many unacknowledged output bytes. */
  outputHighWater: number;
  /** Hard bound on unacknowledged output; a handler that ignores write() = false is cut off. */
  outputLimit: number;
  /** Input held for a paused handler before the socket stops being read. */
  inputQueueLimit: number;
  /** Bound on the input log kept since the last snapshot (lazy transfer). */
  inputLogLimit: number;
}

export interface SessionContext {
  cid: string;
  member: string;
  snapshotKey: Buffer;
  store: SnapshotStore;
  limits: SessionLimits;
  logger: Logger;
  /** A failed save is tried again (with the newest snapshot) after this long. */
  saveRetryMs: number;
  /** Eager saves of one connection are at least this far apart. */
  saveIntervalMs: number;
  /** Called once when the session is gone, so the server forgets it. */
  onGone(reason: SessionCloseReason): void;
}

/**
 * The server end of one migration-aware connection, independent of which socket carries it:
 * the per-connection half of the M-TCP protocol. It keeps
 * - output [outAcked, written) until the client acknowledges it (retransmitted after a resume),
 * - the input log since the last snapshot (handed over by a lazy transfer),
 * - the last sealed snapshot record, saved to the store one at a time, newest wins.
 */
export class MigratorySession extends EventEmitter implements MtcpSession {
  readonly migratory = true;
  readonly id: string;
  readonly importedState: unknown;
  private readonly out: ByteWindow;
  private readonly log: ByteWindow;
  private logBroken = false;
  private written: number;
  private consumed: number;
  private received: number;
  private queue: Buffer[] = [];
  private queued = 0;
  private paused = false;
  private gated = false;
  private inputEnded = false;
  private endDelivered = false;
  private outputEnded = false;
  private closed = false;
  private transport: SessionTransport | undefined;
  /** The newest snapshot, unsealed: its output is kept as slices and copied only when sent. */
  private snap: PendingSnapshot;
  private saving = false;
  private savePending = false;
  private committed = -1;
  private firstSave: Promise<void> | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private lastSaveAt = 0;
  private wantDrain = false;

  /**
   * `from`: the record this incarnation starts from; `clientOut`: output the client already has;
   * `epoch`: the client's resume attempt that created this incarnation (0 for a new connection).
   */
  constructor(private readonly ctx: SessionContext, from: SnapshotRecord, clientOut: number, public epoch = 0) {
    super();
    this.id = ctx.cid;
    this.importedState = from.state === undefined ? undefined : (JSON.parse(from.state) as unknown);
    this.written = from.out;
    this.consumed = from.in;
    this.received = from.in;
    this.out = new ByteWindow(ctx.limits.outputLimit, clientOut);
    // Output sent before the snapshot that the client has not confirmed: resend it.
    if (clientOut < from.out) this.out.append(Buffer.from(from.unacked, 'base64').subarray(clientOut - from.outAcked));
    this.log = new ByteWindow(ctx.limits.inputLogLimit, from.in);
    const { mac: _mac, unacked, ...fields } = from;
    this.snap = { ...fields, seq: from.seq + 1, unackedChunks: [Buffer.from(unacked, 'base64')] };
    this.save();
  }

  get bytesWritten(): number {
    return this.written;
  }
  get bytesConsumed(): number {
    return this.consumed;
  }
  get bytesReceived(): number {
    return this.received;
  }
  get isPaused(): boolean {
    return this.paused;
  }
  get destroyed(): boolean {
    return this.closed;
  }
  get attached(): boolean {
    return this.transport !== undefined;
  }
  /** Resolves once the first record reached the store (eager stores; at once for lazy ones). */
  stored(): Promise<void> {
    return this.firstSave ?? Promise.resolve();
  }

  /** The newest snapshot, sealed for transfer. */
  get latestRecord(): SnapshotRecord {
    const { unackedChunks, ...fields } = this.snap;
    return sealRecord(this.ctx.snapshotKey, { ...fields, owner: this.ctx.member, unacked: Buffer.concat(unackedChunks).toString('base64') });
  }

  // ---- application side -------------------------------------------------------------------

  write(data: Buffer | string): boolean {
    if (this.closed || this.outputEnded) return false;
    // Like socket.write, the buffer is kept by reference (until acknowledged): do not reuse it.
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const start = this.written;
    this.written += buf.length;
    // After a resume the handler regenerates output the client may already have: skip it.
    const skip = Math.max(0, Math.min(buf.length, this.out.end - start));
    const fresh = buf.subarray(skip);
    if (fresh.length > 0) {
      if (fresh.length > this.out.room) {
        this.fail(new BufferLimitError('unacknowledged output (the handler ignored write() = false)', this.ctx.limits.outputLimit));
        return false;
      }
      this.out.append(fresh);
      this.transport?.sendData([fresh]);
    }
    const ok = this.out.length < this.ctx.limits.outputHighWater;
    if (!ok) this.wantDrain = true;
    return ok;
  }

  end(): void {
    if (this.outputEnded || this.closed) return;
    this.outputEnded = true;
    this.transport?.send(encodeFrame(FrameType.END));
    this.maybeFinish();
  }

  exportSnapshot(state: unknown): void {
    if (this.closed) return;
    const outAcked = Math.min(this.out.start, this.written);
    this.snap = {
      v: 1,
      cid: this.id,
      seq: this.snap.seq + 1,
      takenAt: Date.now(),
      in: this.consumed,
      out: this.written,
      outAcked,
      state: JSON.stringify(state ?? null),
      unackedChunks: this.out.slice(outAcked, this.written),
    };
    // The log now starts at the snapshot; it stays usable only while it is contiguous.
    if (this.consumed === this.received) {
      this.log.reset(this.consumed);
      this.logBroken = false;
    } else if (!this.logBroken) this.log.trimTo(this.consumed);
    this.save();
  }

  pause(): void {
    this.paused = true;
  }
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    setImmediate(() => this.flushInput());
  }
  unshift(data: Buffer): void {
    this.consumed -= data.length;
    this.queue.unshift(data);
    this.queued += data.length;
  }
  destroy(): void {
    this.finish('destroyed');
  }

  /** The member is shutting down: drop the connection but leave its stored state for others. */
  halt(): void {
    this.finish('abandoned');
  }

  // ---- protocol side ------------------------------------------------------------------------

  /** Input bytes as if received from the client (lazy transfer's log, or DATA frames). */
  receive(chunk: Buffer): void {
    if (chunk.length === 0 || this.closed) return;
    if (!this.logBroken && this.log.end === this.received && chunk.length <= this.log.room) this.log.append(chunk);
    else this.logBroken = true;
    this.received += chunk.length;
    this.queue.push(chunk);
    this.queued += chunk.length;
    this.flushInput();
  }

  attach(transport: SessionTransport): void {
    this.transport = transport;
    const pending = this.out.slice();
    if (pending.length > 0) transport.sendData(pending);
    if (this.outputEnded) transport.send(encodeFrame(FrameType.END));
    if (this.committed >= 0) transport.send(encodeOffsetFrame(FrameType.COMMIT, this.committed));
  }

  /**
   * Whether this incarnation can take back a client that has received output up to `clientOut`
   * and still holds input from `inHeld` (a resume at the member that holds the connection). It
   * cannot when the connection went on elsewhere meanwhile (this incarnation is stale): the
   * client then has output this one never wrote, or dropped input this one never received.
   */
  canServe(clientOut: number, inHeld: number): boolean {
    return !this.closed && clientOut >= this.out.start && clientOut <= this.out.end && inHeld <= this.received;
  }

  /**
   * A client comes back to this incarnation with output up to `clientOut`: everything before it
   * is confirmed, so the output window restarts there (resending from the last ACK would deliver
   * twice what the client received after it).
   */
  rebase(clientOut: number): void {
    this.acknowledge(clientOut);
  }

  /** The client's socket is gone; the session waits for a resume (or its retention to run out). */
  detach(): void {
    this.transport?.close(false);
    this.transport = undefined;
  }

  onFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.DATA:
        this.receive(frame.payload);
        break;
      case FrameType.ACK:
        this.acknowledge(decodeOffset(frame.payload));
        break;
      case FrameType.END:
        this.inputEnded = true;
        this.flushInput();
        break;
      default:
        this.fail(new Error(`unexpected frame 0x${frame.type.toString(16)} from client`));
    }
  }

  private acknowledge(offset: number): void {
    this.out.trimTo(offset);
    if (this.wantDrain && this.out.length < this.ctx.limits.outputHighWater) {
      this.wantDrain = false;
      this.emit('drain');
    }
    this.maybeFinish();
  }

  /** Lazy transfer: hand the newest record and the input since it to another member, and stop. */
  release(): { record: SnapshotRecord; log: Buffer } {
    const record = this.latestRecord;
    const log = this.logBroken ? Buffer.alloc(0) : Buffer.concat(this.log.slice(record.in, this.received));
    this.finish('migrated');
    return { record, log };
  }

  /** Holds input back until the connection handler has set itself up (server/mtcp-server.ts). */
  gate(closed: boolean): void {
    this.gated = closed;
    if (!closed) this.flushInput();
  }

  private flushInput(): void {
    if (this.gated) return;
    while (!this.paused && !this.closed && this.queue.length > 0) {
      const c = this.queue.shift()!;
      this.queued -= c.length;
      this.consumed += c.length;
      this.emit('data', c);
    }
    if (this.transport) {
      if (this.queued > this.ctx.limits.inputQueueLimit) this.transport.pauseReading();
      else this.transport.resumeReading();
    }
    if (!this.paused && this.queue.length === 0 && this.inputEnded && !this.endDelivered && !this.closed) {
      this.endDelivered = true;
      this.emit('end');
    }
    this.maybeFinish();
  }

  /**
   * Lazy store: the snapshot stays here until a fetch; the client may drop input at once.
   * Eager store: one save in flight at a time, the newest snapshot next, saves at least
   * `saveIntervalMs` apart (each carries the unacknowledged output, so a fast stream that
   * snapshots every chunk would otherwise push many times its own bytes); COMMIT only once the
   * store holds a record, so the client never drops input that a dead member's successor needs.
   */
  private save(): void {
    if (!this.ctx.store.eager) return this.commit(this.snap.in);
    if (this.saving || this.saveTimer) {
      this.savePending = true;
      return;
    }
    const wait = this.lastSaveAt + this.ctx.saveIntervalMs - Date.now();
    if (wait > 0) return this.saveLater(wait);
    this.saving = true;
    this.lastSaveAt = Date.now();
    const record = this.latestRecord;
    const saving = this.ctx.store.save(record);
    this.firstSave ??= saving.catch(() => {});
    saving.then(
      () => this.saved(record),
      (err: unknown) => {
        this.ctx.logger.warn({ err, cid: this.id }, 'snapshot save failed');
        this.saved(undefined);
      },
    );
  }

  /** Saves the newest snapshot after `ms` (snapshots taken meanwhile only replace it). */
  private saveLater(ms: number): void {
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.savePending = false;
      this.save();
    }, ms);
    this.saveTimer.unref();
  }

  private saved(record: SnapshotRecord | undefined): void {
    this.saving = false;
    if (this.closed) return;
    // Not stored (e.g. every other member was down): no COMMIT, and the newest snapshot is saved
    // again shortly, so a member that comes back gets it without waiting for new output.
    if (!record) return this.saveLater(this.ctx.saveRetryMs);
    this.commit(record.in);
    if (this.savePending) {
      this.savePending = false;
      this.save();
    }
  }

  private commit(offset: number): void {
    if (offset <= this.committed || this.closed) return;
    this.committed = offset;
    this.transport?.send(encodeOffsetFrame(FrameType.COMMIT, offset));
  }

  private maybeFinish(): void {
    if (this.outputEnded && this.endDelivered && this.out.length === 0 && !this.closed) this.finish('finished');
  }

  private fail(err: Error): void {
    this.ctx.logger.warn({ err, cid: this.id }, 'migratory session failed');
    this.transport?.send(encodeJsonFrame(FrameType.REJECT, { code: 'ERR_MTCP_SESSION', message: err.message }));
    this.finish('error');
  }

  private finish(reason: SessionCloseReason): void {
    if (this.closed) return;
    this.closed = true;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.transport?.close(reason === 'finished');
    this.transport = undefined;
    if (reason === 'finished' || reason === 'destroyed' || reason === 'error') {
      this.ctx.store.delete(this.id).catch(() => {});
    }
    this.ctx.onGone(reason);
    this.emit('close', reason);
  }
}
