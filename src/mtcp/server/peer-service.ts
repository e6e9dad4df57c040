import type { Socket } from 'node:net';
import { MtcpError, MtcpErrorCode } from '../errors.js';
import { hmac, macMatches } from '../cert/pool-keys.js';
import { encodeJsonFrame, type FrameDecoder } from '../wire/frame-codec.js';
import { FrameType, type Frame } from '../wire/frame-types.js';
import { parseControl, peerRequestSchema, type Hello, type PeerRequest, type PeerResponse } from '../wire/control-messages.js';
import { openRecord } from '../state/snapshot-record.js';
import { PushSnapshotStore } from '../state/push-store.js';
import type { SnapshotStore } from '../state/snapshot-store.js';
import type { PoolConfig } from './pool-config.js';

/** A peer hello older or newer than this is refused (bounds the replay of a captured hello). */
export const PEER_HELLO_SKEW_MS = 60_000;

export interface PeerServiceDeps {
  peerKey: Buffer;
  snapshotKey: Buffer;
  pool: PoolConfig;
  store: SnapshotStore;
  /** Hands the connection over, unless a resume attempt at least as new as `epoch` holds it (throws STALE). */
  release(cid: string, requester: string, epoch: number): { record: unknown; log: Buffer } | undefined;
  /** Where this member handed the connection over to, if it did (a forwarding pointer). */
  movedTo(cid: string): string | undefined;
  /** A member proved who it is: it is up (clears a fail-fast mark on our link to it). */
  onPeer?(member: string): void;
}

/**
 * The member side of a peer link: authenticates the hello (HMAC with the pool's peer key), then
 * answers push (eager: keep a replica), fetch (lazy: give up the connection), load (eager, the
 * owner is gone: read the replica) and drop.
 */
export function servePeer(socket: Socket, decoder: FrameDecoder, hello: Extract<Hello, { mode: 'peer' }>, rest: Frame[], deps: PeerServiceDeps): void {
  if (!deps.pool.members.some((m) => m.id === hello.member)) throw new MtcpError(MtcpErrorCode.PEER_AUTH, `unknown member ${hello.member}`);
  if (Math.abs(Date.now() - hello.ts) > PEER_HELLO_SKEW_MS) throw new MtcpError(MtcpErrorCode.PEER_AUTH, 'peer hello is stale');
  if (!macMatches(hmac(deps.peerKey, 'peer', hello.member, String(hello.ts), hello.nonce), hello.mac)) {
    throw new MtcpError(MtcpErrorCode.PEER_AUTH, 'peer hello does not verify');
  }
  deps.onPeer?.(hello.member);
  const answer = (res: PeerResponse): void => {
    if (!socket.destroyed) socket.write(encodeJsonFrame(FrameType.PEER_RESPONSE, res));
  };
  const handle = async (f: Frame): Promise<void> => {
    if (f.type !== FrameType.PEER_REQUEST) throw new MtcpError(MtcpErrorCode.PROTOCOL, 'peers send PEER_REQUEST frames only');
    const req: PeerRequest = parseControl(peerRequestSchema, f.payload, 'peer request');
    try {
      answer(await serve(req, deps, hello.member));
    } catch (err) {
      const code = err instanceof MtcpError ? err.code : 'ERR_MTCP_PEER';
      answer({ rid: req.rid, ok: false, error: { code, message: err instanceof Error ? err.message : String(err) } });
    }
  };
  const onFrames = (frames: Frame[]): void => {
    for (const f of frames) handle(f).catch(() => socket.destroy());
  };
  socket.on('data', (chunk: Buffer) => {
    try {
      onFrames(decoder.push(chunk));
    } catch {
      socket.destroy();
    }
  });
  onFrames(rest);
  socket.resume();
}

async function serve(req: PeerRequest, deps: PeerServiceDeps, requester: string): Promise<PeerResponse> {
  switch (req.op) {
    case 'push': {
      if (!(deps.store instanceof PushSnapshotStore)) return { rid: req.rid, ok: false, error: { code: 'ERR_MTCP_NO_PUSH', message: 'this member does not keep replicas' } };
      const cid = (req.record as { cid?: unknown } | null)?.cid;
      if (typeof cid !== 'string') throw new MtcpError(MtcpErrorCode.SNAPSHOT_INVALID, 'pushed record has no cid');
      deps.store.acceptReplica(openRecord(deps.snapshotKey, req.record, cid));
      return { rid: req.rid, ok: true };
    }
    case 'fetch': {
      const released = deps.release(req.cid, requester, req.epoch);
      if (released) return { rid: req.rid, ok: true, record: released.record, log: released.log.toString('base64') };
      // Already handed over (e.g. to a member whose RESUMED the client never saw): say where.
      const moved = deps.movedTo(req.cid);
      if (moved !== undefined && moved !== requester) return { rid: req.rid, ok: false, movedTo: moved, error: { code: 'ERR_MTCP_MOVED', message: `connection moved to ${moved}` } };
      const stored = await deps.store.load(req.cid);
      if (stored !== undefined) return { rid: req.rid, ok: true, record: stored, log: '', replica: true };
      return { rid: req.rid, ok: false, error: { code: MtcpErrorCode.STATE_UNAVAILABLE, message: 'connection not known here' } };
    }
    case 'load': {
      const stored = await deps.store.load(req.cid);
      if (stored !== undefined) return { rid: req.rid, ok: true, record: stored };
      return { rid: req.rid, ok: false, error: { code: MtcpErrorCode.STATE_UNAVAILABLE, message: 'no replica here' } };
    }
    case 'drop': {
      if (deps.store instanceof PushSnapshotStore) deps.store.dropReplica(req.cid);
      return { rid: req.rid, ok: true };
    }
  }
}
