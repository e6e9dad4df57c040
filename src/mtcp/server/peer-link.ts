import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { parseHostPort } from '../../common/host-port.js';
import { TimeoutError } from '../../common/errors.js';
import { hmac } from '../cert/pool-keys.js';
import { encodeFrame, encodeJsonFrame, FrameDecoder } from '../wire/frame-codec.js';
import { FrameType, PREAMBLE } from '../wire/frame-types.js';
import { parseControl, peerResponseSchema, type PeerResponse } from '../wire/control-messages.js';
import type { SnapshotRecord } from '../state/snapshot-record.js';
import type { SnapshotPusher } from '../state/push-store.js';
import type { PoolMember } from './pool-config.js';

type PeerOp = { op: 'push'; record: SnapshotRecord } | { op: 'fetch'; cid: string; epoch: number } | { op: 'load'; cid: string } | { op: 'drop'; cid: string };

/** Proof a member sends in its peer hello: HMAC(pool peer key, member, ts, nonce). */
export function peerHello(peerKey: Buffer, member: string, now = Date.now()): Record<string, unknown> {
  const nonce = randomBytes(12).toString('base64url');
  return { mode: 'peer', member, ts: now, nonce, mac: hmac(peerKey, 'peer', member, String(now), nonce).toString('base64url') };
}

/**
 * One member's persistent channel to another member (same listening port as clients; the hello
 * says "peer"). Requests carry an id; answers may come in any order. A connect that timed out is
 * not retried for `retryAfterMs`, so pushes to an unreachable host fail fast instead of piling
 * up. A refused connect is not held against the peer: it costs one round trip, and a member that
 * restarts must get the next push at once (a snapshot it misses is one a successor may need).
 */
export class PeerLink {
  private socket: Socket | undefined;
  private ready: Promise<Socket> | undefined;
  private nextRid = 1;
  private readonly pending = new Map<number, { resolve(r: PeerResponse): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private downUntil = 0;

  constructor(
    readonly member: PoolMember,
    private readonly self: string,
    private readonly peerKey: Buffer,
    private readonly opts: { connectTimeoutMs: number; retryAfterMs: number; maxFrameBytes: number },
  ) {}

  /**
   * `serialized`: the op's JSON without its `rid` (e.g. a push sent to every member is stringified
   * once, not once per member; a record carries up to `outputHighWater` of output).
   */
  async request(op: PeerOp, timeoutMs: number, serialized?: string): Promise<PeerResponse> {
    const socket = await this.connection();
    const rid = this.nextRid++;
    const frame = serialized !== undefined ? encodeFrame(FrameType.PEER_REQUEST, Buffer.from(`{"rid":${rid},${serialized.slice(1)}`, 'utf8')) : encodeJsonFrame(FrameType.PEER_REQUEST, { ...op, rid });
    return new Promise<PeerResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(new TimeoutError(`peer ${this.member.id} ${op.op}`, timeoutMs));
      }, timeoutMs);
      this.pending.set(rid, { resolve, reject, timer });
      socket.write(frame);
    });
  }

  /** The peer said hello to us: it is up (again), whatever a timed-out connect said earlier. */
  markUp(): void {
    this.downUntil = 0;
  }

  private connection(): Promise<Socket> {
    if (this.ready) return this.ready;
    if (Date.now() < this.downUntil) return Promise.reject(new Error(`peer ${this.member.id} is down`));
    const { host, port } = parseHostPort(this.member.address);
    this.ready = new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port });
      s.setNoDelay(true);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        s.destroy(new TimeoutError(`connect to peer ${this.member.id}`, this.opts.connectTimeoutMs));
      }, this.opts.connectTimeoutMs);
      const decoder = new FrameDecoder(this.opts.maxFrameBytes);
      s.once('connect', () => {
        clearTimeout(timer);
        s.write(Buffer.concat([PREAMBLE, encodeJsonFrame(FrameType.HELLO, peerHello(this.peerKey, this.self))]));
        this.socket = s;
        resolve(s);
      });
      s.on('data', (chunk: Buffer) => {
        try {
          for (const f of decoder.push(chunk)) {
            if (f.type !== FrameType.PEER_RESPONSE) throw new Error(`unexpected frame 0x${f.type.toString(16)} from peer`);
            const res = parseControl(peerResponseSchema, f.payload, 'peer response');
            const p = this.pending.get(res.rid);
            if (!p) continue;
            this.pending.delete(res.rid);
            clearTimeout(p.timer);
            p.resolve(res);
          }
        } catch (err) {
          s.destroy(err as Error);
        }
      });
      s.on('error', () => {});
      s.on('close', () => {
        clearTimeout(timer);
        if (this.socket !== s) {
          if (timedOut) this.downUntil = Date.now() + this.opts.retryAfterMs;
          reject(new Error(`cannot reach peer ${this.member.id}`));
        }
        this.reset(s);
      });
    });
    return this.ready;
  }

  private reset(s: Socket): void {
    if (this.socket === s || this.socket === undefined) {
      this.socket = undefined;
      this.ready = undefined;
    }
    for (const [rid, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`connection to peer ${this.member.id} closed`));
      this.pending.delete(rid);
    }
  }

  close(): void {
    this.socket?.destroy();
  }
}

/** The member's links to all other members: eager pushes and lazy fetches go through here. */
export class PeerLinks implements SnapshotPusher {
  private readonly links = new Map<string, PeerLink>();

  constructor(
    members: PoolMember[],
    self: string,
    peerKey: Buffer,
    private readonly opts: { connectTimeoutMs: number; retryAfterMs: number; requestTimeoutMs: number; maxFrameBytes: number },
  ) {
    for (const m of members) if (m.id !== self) this.links.set(m.id, new PeerLink(m, self, peerKey, opts));
  }

  get peerCount(): number {
    return this.links.size;
  }

  markUp(member: string): void {
    this.links.get(member)?.markUp();
  }

  async pushToPeers(record: SnapshotRecord): Promise<number> {
    const op = { op: 'push' as const, record };
    const serialized = JSON.stringify(op);
    const results = await Promise.allSettled([...this.links.values()].map((l) => l.request(op, this.opts.requestTimeoutMs, serialized)));
    return results.filter((r) => r.status === 'fulfilled' && r.value.ok).length;
  }

  async dropAtPeers(cid: string): Promise<void> {
    await Promise.allSettled([...this.links.values()].map((l) => l.request({ op: 'drop', cid }, this.opts.requestTimeoutMs)));
  }

  /** Lazy transfer: asks `member` for the connection's state and input log. */
  async fetch(member: string, cid: string, epoch: number, timeoutMs: number): Promise<PeerResponse> {
    const link = this.links.get(member);
    if (!link) throw new Error(`no peer link to ${member}`);
    return link.request({ op: 'fetch', cid, epoch }, timeoutMs);
  }

  /**
   * Eager transfer without the owner: the replica each other member holds (except `exclude`),
   * asked in parallel, each answer bounded by `timeoutMs`. Unreachable members count as none.
   */
  async loadReplicas(cid: string, exclude: string[], timeoutMs: number): Promise<Array<{ member: string; record: unknown }>> {
    const links = [...this.links.values()].filter((l) => !exclude.includes(l.member.id));
    const answers = await Promise.allSettled(links.map((l) => l.request({ op: 'load', cid }, timeoutMs)));
    const out: Array<{ member: string; record: unknown }> = [];
    answers.forEach((a, i) => {
      if (a.status === 'fulfilled' && a.value.ok && a.value.record !== undefined) out.push({ member: links[i]!.member.id, record: a.value.record });
    });
    return out;
  }

  close(): void {
    for (const l of this.links.values()) l.close();
  }
}
