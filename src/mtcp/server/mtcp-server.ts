import { createServer, type Server, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseHostPort, formatHostPort } from '../../common/host-port.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import { MtcpError, MtcpErrorCode, MtcpProtocolError } from '../errors.js';
import { derivePoolKeys, type PoolKeys } from '../cert/pool-keys.js';
import { issueCertificate, verifyCertificate } from '../cert/migration-certificate.js';
import { encodeJsonFrame, FrameDecoder } from '../wire/frame-codec.js';
import { FrameType, type Frame } from '../wire/frame-types.js';
import { helloSchema, parseControl, type Hello } from '../wire/control-messages.js';
import { DETECT_STATES, PreambleDetector } from '../wire/preamble-detector.js';
import { sealRecord } from '../state/snapshot-record.js';
import type { SnapshotStore } from '../state/snapshot-store.js';
import { PushSnapshotStore } from '../state/push-store.js';
import { createSnapshotStore } from '../state/store-factory.js';
import { findMember } from './pool-config.js';
import { PeerLinks } from './peer-link.js';
import { servePeer } from './peer-service.js';
import { loadResumeState } from './resume-loader.js';
import { MigratorySession, type SessionContext } from './migratory-session.js';
import { PlainSession } from './plain-session.js';
import { SessionTransport } from './session-transport.js';
import { resolveServerOptions, type MtcpServerOptions, type ResolvedServerOptions } from './server-options.js';
import type { MtcpSession, SessionCloseReason } from './session-types.js';

const MOVED_POINTERS = 10_000;

/** What a member reports about each resume it served (the migration's server-side phases). */
export interface ResumeEvent {
  cid: string;
  from: string;
  source: 'local' | 'peer' | 'store';
  transferMs: number;
  inFrom: number;
  outFrom: number;
}

/**
 * A member of a migratory server pool (issue 5, "Server kit"). Accepts plain TCP clients and
 * M-TCP clients on one port; an M-TCP hello is `new`, `resume` (with a certificate) or `peer`
 * (another member: eager pushes and lazy fetches). Emits `session`, `resumed`, `rejected`, and
 * `invalid-snapshot` (`{cid, where, code, message}`: a stored record that failed its seal or
 * binding; it is never imported).
 */
export class MtcpServer extends EventEmitter {
  readonly opts: ResolvedServerOptions;
  private _store: SnapshotStore | undefined;
  readonly keys: PoolKeys;
  readonly peers: PeerLinks;
  private readonly server: Server;
  private readonly logger: Logger;
  private readonly sessions = new Map<string, MigratorySession>();
  private readonly orphanTimers = new Map<string, NodeJS.Timeout>();
  private readonly sockets = new Set<Socket>();
  /** cid → member it was handed to (bounded, oldest dropped), so late fetches can follow it. */
  private readonly moved = new Map<string, string>();

  constructor(options: MtcpServerOptions) {
    super();
    this.opts = resolveServerOptions(options);
    findMember(this.opts.pool, this.opts.id);
    this.logger = options.logger ?? silentLogger;
    this.keys = derivePoolKeys(this.opts.pool.key);
    this._store = options.store;
    this.peers = new PeerLinks(this.opts.pool.members, this.opts.id, this.keys.peer, {
      connectTimeoutMs: Math.min(1000, this.opts.fetchTimeoutMs),
      retryAfterMs: 200,
      requestTimeoutMs: this.opts.pushTimeoutMs,
      maxFrameBytes: this.opts.maxFrameBytes,
    });
    this.server = createServer((s) => this.accept(s));
  }

  get id(): string {
    return this.opts.id;
  }
  get sessionCount(): number {
    return this.sessions.size;
  }
  session(cid: string): MigratorySession | undefined {
    return this.sessions.get(cid);
  }

  /** The snapshot store (built from the pool's `store` by `listen()` unless one was given). */
  get store(): SnapshotStore {
    if (!this._store) throw new MtcpError(MtcpErrorCode.CLOSED, 'the server has no store before listen()');
    return this._store;
  }

  async listen(): Promise<string> {
    this._store ??= await createSnapshotStore(this.opts.pool.store);
    if (this._store instanceof PushSnapshotStore) this._store.setPusher(this.peers);
    const { host, port } = parseHostPort(this.opts.listen ?? findMember(this.opts.pool, this.opts.id).address);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    return formatHostPort({ host: a.address, port: a.port });
  }

  async close(): Promise<void> {
    for (const t of this.orphanTimers.values()) clearTimeout(t);
    // Like a crash for the clients (they migrate), but stored snapshots stay for the other members.
    for (const s of this.sessions.values()) s.halt();
    for (const s of this.sockets) s.destroy();
    this.peers.close();
    await new Promise<void>((r) => this.server.close(() => r()));
    await this._store?.close();
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    const detector = new PreambleDetector();
    const decoder = new FrameDecoder(this.opts.maxFrameBytes);
    // A connection that has sent nothing yet is neither plain nor M-TCP: it may be a client's
    // standby connection (docs/mtcp.md, "Standby connection"), kept idle until a migration. It
    // is never handed to the application before its first byte (so it has no side effects), and
    // it is closed after `idleBeforeHelloMs`; from its first byte on, the hello must be complete
    // within `helloTimeoutMs`.
    let timer = setTimeout(() => socket.destroy(), this.opts.idleBeforeHelloMs);
    let identified = false;
    const onData = (chunk: Buffer): void => {
      if (!identified) {
        identified = true;
        clearTimeout(timer);
        timer = setTimeout(() => socket.destroy(), this.opts.helloTimeoutMs);
      }
      const r = detector.push(chunk);
      if (r.state === DETECT_STATES.DETECTING) return;
      if (r.state === DETECT_STATES.PLAIN) {
        clearTimeout(timer);
        socket.off('data', onData);
        this.startPlain(socket, r.head);
        return;
      }
      let frames: Frame[];
      try {
        frames = decoder.push(r.rest);
      } catch (err) {
        return this.reject(socket, err);
      }
      if (frames.length === 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      const [hello, ...rest] = frames as [Frame, ...Frame[]];
      this.onHello(socket, decoder, hello, rest).catch((err: unknown) => this.reject(socket, err));
    };
    socket.on('data', onData);
    socket.once('close', () => clearTimeout(timer));
  }

  private startPlain(socket: Socket, head: Buffer): void {
    const session = new PlainSession(socket, head);
    this.runHandler(session);
  }

  /**
   * Runs the handler with the session's input held back until it has returned (and its promise
   * resolved), so no byte, replayed or fresh, is emitted before the handler listens.
   */
  private runHandler(session: MigratorySession | PlainSession): void {
    session.gate(true);
    this.emit('session', session);
    let result: void | Promise<void>;
    try {
      result = this.opts.handler(session);
    } catch (err) {
      this.logger.warn({ err, cid: session.id }, 'connection handler failed');
      session.destroy();
      return;
    }
    Promise.resolve(result).then(
      () => session.gate(false),
      (err: unknown) => {
        this.logger.warn({ err, cid: session.id }, 'connection handler failed');
        session.destroy();
      },
    );
  }

  private async onHello(socket: Socket, decoder: FrameDecoder, frame: Frame, rest: Frame[]): Promise<void> {
    if (frame.type !== FrameType.HELLO) throw new MtcpProtocolError('the first frame must be HELLO');
    const hello = parseControl(helloSchema, frame.payload, 'hello');
    switch (hello.mode) {
      case 'peer':
        return servePeer(socket, decoder, hello, rest, {
          peerKey: this.keys.peer,
          snapshotKey: this.keys.snapshot,
          pool: this.opts.pool,
          store: this.store,
          release: (cid, requester, epoch) => this.releaseForFetch(cid, requester, epoch),
          movedTo: (cid) => this.moved.get(cid),
          onPeer: (member) => this.peers.markUp(member),
        });
      case 'new':
        return this.startNew(socket, decoder, rest);
      case 'resume':
        return this.startResume(socket, decoder, hello, rest);
    }
  }

  private context(cid: string): SessionContext {
    return {
      cid,
      member: this.opts.id,
      snapshotKey: this.keys.snapshot,
      store: this.store,
      limits: {
        outputHighWater: this.opts.outputHighWater,
        outputLimit: this.opts.outputLimit,
        inputQueueLimit: this.opts.inputQueueLimit,
        inputLogLimit: this.opts.inputLogLimit,
      },
      logger: this.logger,
      saveRetryMs: this.opts.saveRetryMs,
      saveIntervalMs: this.opts.saveIntervalMs,
      onGone: (reason) => this.forget(cid, reason),
    };
  }

  private welcome(cid: string): Record<string, unknown> {
    const { cert, expiresAt } = issueCertificate(this.keys.cert, cid, this.opts.id, this.opts.certTtlMs);
    return { cid, member: this.opts.id, members: this.opts.pool.members.map((m) => ({ id: m.id, address: m.address })), cert, certExpiresAt: expiresAt };
  }

  private async startNew(socket: Socket, decoder: FrameDecoder, rest: Frame[]): Promise<void> {
    const cid = randomUUID();
    const initial = sealRecord(this.keys.snapshot, { v: 1, cid, seq: 0, owner: this.opts.id, takenAt: Date.now(), in: 0, out: 0, outAcked: 0, unacked: '' });
    const session = new MigratorySession(this.context(cid), initial, 0);
    this.sessions.set(cid, session);
    // Eager stores: the connection exists for the pool only once its first record is stored,
    // so a member killed right after the WELCOME can still be replaced.
    await session.stored();
    if (socket.destroyed) return session.destroy();
    socket.write(encodeJsonFrame(FrameType.WELCOME, this.welcome(cid)));
    this.runHandler(session);
    this.attach(session, socket, decoder, rest);
  }

  private async startResume(socket: Socket, decoder: FrameDecoder, hello: Extract<Hello, { mode: 'resume' }>, rest: Frame[]): Promise<void> {
    const t0 = performance.now();
    verifyCertificate(this.keys.cert, hello.cert, hello.cid);
    let session = this.sessions.get(hello.cid);
    let source: ResumeEvent['source'] = 'local';
    if (session) {
      if (hello.epoch <= session.epoch) throw new MtcpError(MtcpErrorCode.STALE, `connection is held by a newer resume (${session.epoch} ≥ ${hello.epoch})`);
      if (!session.canServe(hello.out, hello.inHeld)) {
        // A stale incarnation: the connection went on at another member (which loaded it from the
        // store while this one was unreachable). Drop it and load the state like any member.
        this.cancelOrphanTimer(hello.cid);
        session.halt();
        session = undefined;
      }
    }
    if (session) {
      // The client comes back to the member that holds it (a reconnect, or a rolled-back migration).
      this.cancelOrphanTimer(hello.cid);
      session.detach();
      session.epoch = hello.epoch;
      session.rebase(hello.out);
    } else {
      // If this member handed the connection over earlier, ask the member it went to.
      const from = this.moved.get(hello.cid) ?? hello.from;
      const loaded = await loadResumeState({
        cid: hello.cid,
        epoch: hello.epoch,
        from,
        self: this.opts.id,
        snapshotKey: this.keys.snapshot,
        store: this.store,
        peers: this.peers,
        fetchTimeoutMs: this.opts.fetchTimeoutMs,
        replicaTimeoutMs: this.opts.pushTimeoutMs,
        onInvalid: (where, err) => {
          this.logger.warn({ cid: hello.cid, where, code: err.code, message: err.message }, 'snapshot record refused');
          this.emit('invalid-snapshot', { cid: hello.cid, where, code: err.code, message: err.message });
        },
      });
      if (socket.destroyed) return;
      const { record } = loaded;
      const log = loaded.log.subarray(0, Math.max(0, hello.in - record.in));
      if (hello.inHeld > record.in + log.length) throw new MtcpError(MtcpErrorCode.REPLAY_GAP, `client holds input from ${hello.inHeld}, the state needs it from ${record.in + log.length}`);
      if (hello.out < record.outAcked || hello.out > record.out + (1 << 30)) throw new MtcpError(MtcpErrorCode.REPLAY_GAP, 'client output offset does not fit the snapshot');
      // Another resume may have won while this one was fetching.
      const rival = this.sessions.get(hello.cid);
      if (rival && rival.epoch >= hello.epoch) throw new MtcpError(MtcpErrorCode.STALE, 'a newer resume took the connection meanwhile');
      rival?.halt();
      session = new MigratorySession(this.context(hello.cid), record, hello.out, hello.epoch);
      this.sessions.set(hello.cid, session);
      this.moved.delete(hello.cid);
      source = loaded.source;
      this.runHandler(session);
      // Replay: input the old member had logged after the snapshot, then (below) the client's.
      session.receive(log);
    }
    const inFrom = session.bytesReceived;
    const transferMs = performance.now() - t0;
    socket.write(encodeJsonFrame(FrameType.RESUMED, { ...this.welcome(hello.cid), inFrom, transfer: { source, ms: transferMs } }));
    this.emit('resumed', { cid: hello.cid, from: hello.from, source, transferMs, inFrom, outFrom: hello.out } satisfies ResumeEvent);
    this.attach(session, socket, decoder, rest);
  }

  private attach(session: MigratorySession, socket: Socket, decoder: FrameDecoder, rest: Frame[]): void {
    if (session.destroyed) {
      socket.destroy();
      return;
    }
    const transport: SessionTransport = new SessionTransport(
      socket,
      decoder,
      {
        onFrame: (f) => session.onFrame(f),
        onDrain: () => {},
        onLost: () => {
          if (this.sessions.get(session.id) !== session || session.destroyed) return;
          session.detach();
          this.startOrphanTimer(session);
        },
      },
      this.opts.heartbeatMs,
    );
    session.attach(transport);
    this.scheduleCertRefresh(session, transport);
    for (const f of rest) session.onFrame(f);
    socket.resume();
  }

  private scheduleCertRefresh(session: MigratorySession, transport: SessionTransport): void {
    const tick = (): void => {
      if (transport.isLost || session.destroyed) return;
      const { cert, expiresAt } = issueCertificate(this.keys.cert, session.id, this.opts.id, this.opts.certTtlMs);
      transport.send(encodeJsonFrame(FrameType.CERT, { cert, certExpiresAt: expiresAt }));
      setTimeout(tick, this.opts.certTtlMs / 2).unref();
    };
    setTimeout(tick, this.opts.certTtlMs / 2).unref();
  }

  private startOrphanTimer(session: MigratorySession): void {
    this.cancelOrphanTimer(session.id);
    const t = setTimeout(() => {
      this.orphanTimers.delete(session.id);
      if (!session.attached && !session.destroyed) {
        this.forget(session.id, 'abandoned');
        session.destroy();
      }
    }, this.opts.orphanRetentionMs);
    t.unref();
    this.orphanTimers.set(session.id, t);
  }

  private cancelOrphanTimer(cid: string): void {
    const t = this.orphanTimers.get(cid);
    if (t) clearTimeout(t);
    this.orphanTimers.delete(cid);
  }

  /** Lazy transfer, old member's side: hand over and forget the connection. */
  private releaseForFetch(cid: string, requester: string, epoch: number): { record: unknown; log: Buffer } | undefined {
    const session = this.sessions.get(cid);
    if (!session) return undefined;
    if (epoch <= session.epoch) throw new MtcpError(MtcpErrorCode.STALE, `connection is held by a newer resume (${session.epoch} ≥ ${epoch})`);
    this.moved.delete(cid);
    this.moved.set(cid, requester);
    if (this.moved.size > MOVED_POINTERS) this.moved.delete(this.moved.keys().next().value as string);
    this.cancelOrphanTimer(cid);
    this.sessions.delete(cid);
    // The new member owns the connection now; a stale local record must not be served again.
    if (this.store instanceof PushSnapshotStore) this.store.dropReplica(cid);
    else if (this.store.kind === 'memory') void this.store.delete(cid);
    return session.release();
  }

  private forget(cid: string, reason: SessionCloseReason): void {
    this.cancelOrphanTimer(cid);
    this.sessions.delete(cid);
    this.logger.debug({ cid, reason }, 'session gone');
  }

  private reject(socket: Socket, err: unknown): void {
    const code = err instanceof MtcpError ? err.code : MtcpErrorCode.PROTOCOL;
    const message = err instanceof Error ? err.message : String(err);
    this.emit('rejected', { code, message });
    this.logger.info({ code, message }, 'hello rejected');
    if (!socket.destroyed) socket.end(encodeJsonFrame(FrameType.REJECT, { code, message }));
  }
}
