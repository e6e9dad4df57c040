import { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { silentLogger, type Logger } from '../../common/logger.js';
import { MtcpError, MtcpErrorCode } from '../errors.js';
import { ByteWindow } from '../util/byte-window.js';
import { encodeFrame, encodeOffsetFrame, decodeOffset, encodeHeader, type FrameDecoder } from '../wire/frame-codec.js';
import { DATA_CHUNK_BYTES, FrameType, type Frame } from '../wire/frame-types.js';
import { certSchema, parseControl, rejectSchema, type PoolMemberInfo, type Resumed, type Welcome } from '../wire/control-messages.js';
import { handshake, handshakeOnConnected, HandshakeError, type HandshakeResult } from './client-handshake.js';
import { HeldOutput } from './held-output.js';
import { StandbyLink } from './standby-link.js';
import { resolveClientOptions, type MtcpClientOptions, type ResolvedClientOptions } from './client-options.js';
import { ThroughputMonitor } from './throughput-policy.js';
import { migrationCandidates, runMigration } from './migration-runner.js';
import type { MigrationTrigger, ServerMigrationRecord } from './migration-record.js';

type ConnState = 'idle' | 'connecting' | 'established' | 'migrating' | 'closed';

/**
 * The client end of a migratory connection, as a Duplex the proxy can use in place of a
 * `net.Socket` toward the server (docs/mtcp.md). It keeps the paper's client-side promises:
 * - it counts the output it has received and acknowledges it (ACK), so a new member resumes
 *   exactly after the last byte it has, never twice;
 * - it keeps its input until a stored snapshot covers it (COMMIT) and replays what the new member
 *   lacks;
 * - it migrates on demand (`migrate`), on failure (reset, silence) and by throughput policy.
 *
 * `pause()` stops the data events; the socket is still read, up to `heldOutputLimit` of output
 * held back unacknowledged (so the member stops at its window), so that certificate refreshes and
 * heartbeats keep arriving during a long pause (docs/mtcp.md, "Certificates").
 * Events: `connected`, `migration` (started), `migrated` (done), `migration-failed`, `cert`.
 */
export class MtcpClientConnection extends Duplex {
  readonly opts: ResolvedClientOptions & { autoMigrate: boolean };
  readonly logger: Logger;
  cid = '';
  member = '';
  members: PoolMemberInfo[] = [];
  cert = '';
  certExpiresAt = 0;
  readonly migrations: ServerMigrationRecord[] = [];
  private state: ConnState = 'idle';
  private socket: Socket | undefined;
  private decoder: FrameDecoder | undefined;
  private received = 0;
  private acked = 0;
  /**
   * Output received but not handed to the application (it is paused or its buffer is full), in
   * order. Counted in `received` (a resume starts after it) but not acknowledged.
   */
  private readonly held = new HeldOutput();
  private endPushed = false;
  private ackTimer: NodeJS.Timeout | undefined;
  private readonly input: ByteWindow;
  private waitingWrite: { chunk: Buffer; cb: (err?: Error | null) => void } | undefined;
  private localEnded = false;
  private remoteEnded = false;
  private userPaused = false;
  private pushFull = false;
  private lastFrameAt = 0;
  private readonly watchdog: NodeJS.Timeout;
  private readonly policy: ThroughputMonitor | undefined;
  private policyTicker: NodeJS.Timeout | undefined;
  private inflight: Promise<ServerMigrationRecord> | undefined;
  /** Resume attempts so far (sent in each resume hello; see control-messages.ts). */
  private epoch = 0;
  private current: ServerMigrationRecord | undefined;
  /** The idle connection to the next member (docs/mtcp.md, "Standby connection"); off when absent. */
  private readonly standby: StandbyLink | undefined;

  constructor(options: MtcpClientOptions) {
    const opts = resolveClientOptions(options);
    super({ readableHighWaterMark: opts.readHighWaterMark, allowHalfOpen: true });
    this.opts = opts;
    this.logger = options.logger ?? silentLogger;
    this.input = new ByteWindow(opts.inputLimit, 0);
    this.members = options.members ?? [];
    this.policy = options.policy ? new ThroughputMonitor(options.policy) : undefined;
    this.standby = opts.standby ? new StandbyLink({ retryMs: Math.max(50, opts.retryDelayMs), maxRetryMs: Math.max(50, opts.standbyMaxRetryMs) }) : undefined;
    this.watchdog = setInterval(() => this.checkSilence(), Math.max(20, Math.floor((this.opts.silenceTimeoutMs || 1000) / 4)));
    this.watchdog.unref();
    if (this.policy) {
      this.policyTicker = setInterval(() => this.policyTick(), this.policy.sampleMs);
      this.policyTicker.unref();
    }
  }

  /** Output bytes received over the whole connection (the offset a resume starts from). */
  get bytesReceived(): number {
    return this.received;
  }
  get bytesSent(): number {
    return this.input.end;
  }
  get connState(): ConnState {
    return this.state;
  }
  get maxThroughputObserved(): number {
    return this.policy?.maxObserved ?? 0;
  }
  /** The member the standby connection is open to (connected and unused), if any. */
  get standbyMember(): string | undefined {
    return this.standby?.readyFor;
  }
  /** Standby connections opened so far. */
  get standbyOpened(): number {
    return this.standby?.opened ?? 0;
  }

  /** First contact: `address`, else each of `members` in turn. Resolves once WELCOME arrived. */
  async connect(): Promise<this> {
    if (this.state !== 'idle') throw new MtcpError(MtcpErrorCode.PROTOCOL, 'connect() was already called');
    this.state = 'connecting';
    const targets = this.opts.address ? [this.opts.address] : this.members.map((m) => m.address);
    let lastErr: unknown;
    for (const address of targets) {
      try {
        const r = await handshake(address, { mode: 'new' }, this.opts.handshakeTimeoutMs, this.opts.maxFrameBytes);
        const w = r.reply as Welcome;
        this.cid = w.cid;
        this.adopt(w);
        this.install(r);
        this.emit('connected', { cid: this.cid, member: this.member });
        return this;
      } catch (err) {
        lastErr = err;
      }
    }
    this.state = 'closed';
    throw lastErr instanceof Error ? lastErr : new MtcpError(MtcpErrorCode.MIGRATION_FAILED, 'no member reachable');
  }

  /**
   * Moves the server end to another member (`to`, or the next one in the pool). Resolves with the
   * migration's record once the stream has resumed; rejects (and destroys the connection) only when
   * no member could take it. A migration already under way is joined, not doubled.
   */
  migrate(to?: string, trigger: MigrationTrigger = 'demand', reason?: string): Promise<ServerMigrationRecord> {
    if (this.inflight) return this.inflight;
    if (this.state !== 'established') return Promise.reject(new MtcpError(MtcpErrorCode.CLOSED, `cannot migrate a connection that is ${this.state}`));
    if (to !== undefined && !this.members.some((m) => m.id === to)) return Promise.reject(new MtcpError(MtcpErrorCode.MIGRATION_FAILED, `unknown member ${to}`));
    const record: ServerMigrationRecord = {
      id: randomUUID(),
      connection: this.cid,
      trigger,
      ...(reason ? { reason } : {}),
      from: this.member,
      to: to ?? null,
      state: 'detaching',
      phases: { requested: Date.now() },
      timings: {},
      outOffset: 0,
      bytesReplayed: 0,
      attempts: [],
    };
    this.migrations.push(record);
    this.current = record;
    this.state = 'migrating';
    this.emit('migration', record);
    // Detach: `received` is what we ask to resume from. Nothing can move it before the old
    // socket is dropped below, because runMigration runs synchronously up to its first wait (a
    // standby's hello is written by then), so the hello leaves before the old socket's close()
    // and RST are paid for.
    const detachedPerf = performance.now();
    record.phases.detached = Date.now();
    record.outOffset = this.received;
    const old = this.detachSocket();
    const candidates = migrationCandidates(this.members, this.member, to, trigger, this.opts.maxAttempts);
    const retry = { retryDelayMs: this.opts.retryDelayMs, maxRetryDelayMs: this.opts.maxRetryDelayMs, aborted: () => this.state === 'closed', detachedPerf };
    const running = runMigration(record, candidates, (address, member) => this.resumeAt(address, member.id), retry);
    old?.destroy();
    this.inflight = running.then(
      (r) => {
        this.inflight = undefined;
        this.emit('migrated', r);
        return r;
      },
      (err: Error) => {
        this.inflight = undefined;
        this.emit('migration-failed', record);
        this.destroy(err);
        throw err;
      },
    );
    return this.inflight;
  }

  private async resumeAt(address: string, memberId: string): Promise<HandshakeResult<Welcome | Resumed>> {
    const hello = () => ({ mode: 'resume' as const, cid: this.cid, cert: this.cert, from: this.member, out: this.received, in: this.input.end, inHeld: this.input.start, epoch: ++this.epoch });
    const rec = this.current!;
    let r: HandshakeResult<Welcome | Resumed> | undefined;
    const ready = this.standby?.take(memberId);
    if (ready) {
      // The standby is connected already: the hello leaves now (one RTT to RESUMED + transfer).
      try {
        r = await handshakeOnConnected(ready, address, hello(), this.opts.handshakeTimeoutMs, this.opts.maxFrameBytes);
        rec.via = 'standby';
      } catch (err) {
        // The member said no: the same answer would come over a new connection.
        if (err instanceof HandshakeError && err.refused) throw err;
        // The standby was dead without our knowing (e.g. the member restarted): today's path.
        const code = err instanceof MtcpError ? err.code : ((err as NodeJS.ErrnoException).code ?? MtcpErrorCode.MIGRATION_FAILED);
        rec.standbyFallback = { member: memberId, code, message: err instanceof Error ? err.message : String(err) };
        if (this.state === 'closed') throw err;
      }
    }
    if (!r) {
      r = await handshake(address, hello(), this.opts.handshakeTimeoutMs, this.opts.maxFrameBytes);
      rec.via = 'connect';
    }
    const resumed = r.reply as Resumed;
    if (this.state === 'closed') {
      // Destroyed while the hello was under way: the member's orphan retention cleans up.
      r.socket.destroy();
      throw new MtcpError(MtcpErrorCode.CLOSED, 'connection destroyed during the migration');
    }
    if (resumed.inFrom < this.input.start || resumed.inFrom > this.input.end) {
      r.socket.destroy();
      throw new MtcpError(MtcpErrorCode.REPLAY_GAP, `member wants input from ${resumed.inFrom}, held ${this.input.start}..${this.input.end}`);
    }
    rec.transfer = resumed.transfer;
    rec.bytesReplayed = this.input.end - resumed.inFrom;
    this.adopt(resumed);
    // Replay the input the new member lacks, then the end of input if we had sent it, before any
    // frame of the new member reaches the application: output that came in behind RESUMED may
    // make the application write at once, and that input must follow the replay, not precede it.
    this.install(r, () => {
      this.sendInput(this.input.slice(resumed.inFrom));
      if (this.localEnded) this.socket?.write(encodeFrame(FrameType.END));
    });
    return r;
  }

  private adopt(w: Welcome): void {
    this.member = w.member;
    this.members = w.members;
    this.cert = w.cert;
    this.certExpiresAt = w.certExpiresAt;
  }

  /**
   * Makes the handshake's socket the connection's. `beforeFrames` runs once the socket is current
   * and before the frames that arrived with the reply are handled (they may reach the application,
   * which may write synchronously).
   */
  private install(r: HandshakeResult<Welcome | Resumed>, beforeFrames?: () => void): void {
    this.socket = r.socket;
    this.decoder = r.decoder;
    this.state = 'established';
    this.lastFrameAt = Date.now();
    this.policy?.rearm(Date.now(), this.migrations.length > 0);
    const s = r.socket;
    s.on('data', (chunk: Buffer) => this.onSocketData(s, chunk));
    s.on('error', () => {});
    s.on('close', () => this.onSocketLost(s));
    beforeFrames?.();
    for (const f of r.rest) if (s === this.socket) this.onFrame(f);
    if (this.held.bytes < this.opts.heldOutputLimit) s.resume();
    // Off the migration's critical path: the new standby's connect must not delay the resume.
    setImmediate(() => this.aimStandby());
  }

  /** Points the standby at the member a migration without explicit target would try first. */
  private aimStandby(): void {
    if (!this.standby || this.state !== 'established') return;
    const next = migrationCandidates(this.members, this.member, undefined, 'demand', 1)[0];
    this.standby.aim(next && next.id !== this.member ? next : undefined);
  }

  private onSocketData(s: Socket, chunk: Buffer): void {
    if (s !== this.socket) return;
    let frames: Frame[];
    try {
      frames = this.decoder!.push(chunk);
    } catch (err) {
      this.logger.warn({ err }, 'bad frame from member');
      s.destroy();
      return;
    }
    this.lastFrameAt = Date.now();
    for (const f of frames) if (s === this.socket) this.onFrame(f);
  }

  private onFrame(f: Frame): void {
    switch (f.type) {
      case FrameType.DATA: {
        this.received += f.payload.length;
        this.policy?.count(f.payload.length);
        const rec = this.current;
        if (rec && rec.phases.firstByte === undefined) rec.phases.firstByte = Date.now();
        if (this.userPaused || this.pushFull || !this.held.empty) {
          this.held.add(f.payload);
          // Last resort, a member that does not keep to its window: TCP's backpressure.
          if (this.held.bytes >= this.opts.heldOutputLimit) this.socket?.pause();
        } else if (!this.push(f.payload)) this.pushFull = true;
        this.scheduleAck();
        break;
      }
      case FrameType.COMMIT:
        this.input.trimTo(decodeOffset(f.payload));
        this.retryWrite();
        break;
      case FrameType.END:
        this.remoteEnded = true;
        this.sendAck();
        if (this.held.empty) this.pushEnd();
        break;
      case FrameType.HEARTBEAT:
        break;
      case FrameType.CERT: {
        const c = parseControl(certSchema, f.payload, 'cert');
        this.cert = c.cert;
        this.certExpiresAt = c.certExpiresAt;
        this.emit('cert', c);
        break;
      }
      case FrameType.REJECT: {
        const r = parseControl(rejectSchema, f.payload, 'reject');
        this.destroy(new MtcpError(MtcpErrorCode.MIGRATION_FAILED, `member ${this.member} ended the connection: ${r.message}`));
        break;
      }
      default:
        this.socket?.destroy();
    }
  }

  private onSocketLost(s: Socket): void {
    if (s !== this.socket) return;
    this.socket = undefined;
    if (this.state !== 'established') return;
    if (this.remoteEnded && this.localEnded && this.held.empty) {
      this.finishClosed();
      return;
    }
    if (this.opts.autoMigrate) this.migrate(undefined, 'failure', 'reset').catch(() => {});
    else this.destroy(new MtcpError(MtcpErrorCode.CLOSED, `member ${this.member} closed the connection`));
  }

  private checkSilence(): void {
    const limit = this.opts.silenceTimeoutMs;
    if (!limit || this.state !== 'established' || this.userPaused || this.pushFull) return;
    const quiet = Date.now() - this.lastFrameAt;
    if (quiet <= limit) return;
    if (this.opts.autoMigrate) this.migrate(undefined, 'failure', `silent ${quiet} ms`).catch(() => {});
    else this.destroy(new MtcpError(MtcpErrorCode.CLOSED, `member ${this.member} silent for ${quiet} ms`));
  }

  private policyTick(): void {
    if (!this.policy || this.state !== 'established' || this.remoteEnded) return;
    const { rate, migrate } = this.policy.tick(Date.now(), this.userPaused || this.pushFull);
    if (migrate) {
      const pct = Math.round((100 * rate) / this.policy.maxObserved);
      this.migrate(undefined, 'policy', `throughput ${pct}% of max`).catch(() => {});
    }
  }

  /** Output handed to the application: what is acknowledged (held bytes are not). */
  private get delivered(): number {
    return this.received - this.held.bytes;
  }

  private scheduleAck(): void {
    if (this.delivered - this.acked >= this.opts.ackBytes) return this.sendAck();
    if (this.delivered > this.acked && !this.ackTimer) this.ackTimer = setTimeout(() => this.sendAck(), this.opts.ackDelayMs);
  }

  private sendAck(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const upTo = this.delivered;
    if (this.acked >= upTo || !this.socket || this.state !== 'established') return;
    this.acked = upTo;
    this.socket.write(encodeOffsetFrame(FrameType.ACK, upTo));
  }

  private pushEnd(): void {
    if (this.endPushed) return;
    this.endPushed = true;
    this.push(null);
  }

  /** Hands held output to the application while it takes it; then the END if it came. */
  private flushHeld(): void {
    while (!this.held.empty && !this.userPaused && !this.pushFull) {
      if (!this.push(this.held.take()!)) this.pushFull = true;
    }
    if (this.held.empty && this.remoteEnded) this.pushEnd();
    if (this.held.bytes < this.opts.heldOutputLimit && this.state === 'established') this.socket?.resume();
    this.scheduleAck();
  }

  private sendInput(chunks: Buffer[]): void {
    const s = this.socket;
    if (!s || this.state !== 'established') return;
    for (const c of chunks) {
      for (let off = 0; off < c.length; off += DATA_CHUNK_BYTES) {
        const part = c.subarray(off, Math.min(c.length, off + DATA_CHUNK_BYTES));
        s.write(Buffer.concat([encodeHeader(FrameType.DATA, part.length), part]));
      }
    }
  }

  // ---- Duplex plumbing ---------------------------------------------------------------------

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.state === 'closed') return cb(new MtcpError(MtcpErrorCode.CLOSED, 'connection is closed'));
    if (chunk.length > this.input.limit) return cb(new MtcpError(MtcpErrorCode.PROTOCOL, 'write larger than the input bound'));
    if (chunk.length > this.input.room) {
      this.waitingWrite = { chunk, cb }; // until a COMMIT frees room
      return;
    }
    this.input.append(chunk);
    this.sendInput([chunk]);
    cb();
  }

  private retryWrite(): void {
    const w = this.waitingWrite;
    if (!w || w.chunk.length > this.input.room) return;
    this.waitingWrite = undefined;
    this._write(w.chunk, 'binary', w.cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.localEnded = true;
    if (this.state === 'established') this.socket?.write(encodeFrame(FrameType.END));
    cb();
  }

  override _read(): void {
    if (!this.pushFull && this.held.empty) return;
    this.pushFull = false;
    if (!this.userPaused) {
      this.lastFrameAt = Date.now();
      this.flushHeld();
    }
  }

  /**
   * Stops the data events. The socket is still read (control frames keep coming); output is held
   * back unacknowledged, so the member stops at its window (see `heldOutputLimit`).
   */
  override pause(): this {
    this.userPaused = true;
    return super.pause();
  }

  override resume(): this {
    this.userPaused = false;
    this.lastFrameAt = Date.now();
    super.resume();
    this.flushHeld();
    return this;
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.state = 'closed';
    this.standby?.close();
    clearInterval(this.watchdog);
    if (this.policyTicker) clearInterval(this.policyTicker);
    if (this.ackTimer) clearTimeout(this.ackTimer);
    // After both ENDs the last ACK may still be queued: flush it, so the member can let go.
    if (!err && this.remoteEnded && this.localEnded && this.socket) {
      const s = this.socket;
      this.socket = undefined;
      s.end();
      setTimeout(() => s.destroy(), 2000).unref();
    } else this.dropSocket();
    const w = this.waitingWrite;
    this.waitingWrite = undefined;
    w?.cb(err ?? new MtcpError(MtcpErrorCode.CLOSED, 'connection destroyed'));
    cb(err);
  }

  private finishClosed(): void {
    this.state = 'closed';
    this.destroy();
  }

  /** The current socket, no longer the connection's: its events are ignored from here on. */
  private detachSocket(): Socket | undefined {
    const s = this.socket;
    this.socket = undefined;
    return s;
  }

  private dropSocket(): void {
    this.detachSocket()?.destroy();
  }
}

/** Connects a migration-aware client to a pool; resolves once the first member welcomed it. */
export function connectMtcp(options: MtcpClientOptions): Promise<MtcpClientConnection> {
  return new MtcpClientConnection(options).connect();
}
