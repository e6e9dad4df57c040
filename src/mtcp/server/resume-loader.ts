import { MtcpError, MtcpErrorCode } from '../errors.js';
import { openRecord, type SnapshotRecord } from '../state/snapshot-record.js';
import type { SnapshotStore } from '../state/snapshot-store.js';
import type { PeerLinks } from './peer-link.js';

export const MAX_FETCH_HOPS = 4;

export interface LoadedState {
  record: SnapshotRecord;
  /** Input received by the old member after the snapshot (lazy transfer only). */
  log: Buffer;
  source: 'peer' | 'store';
  ms: number;
}

/**
 * Finds the state of a connection that resumes here from member `from` (M-TCP, state transfer):
 * lazily from the old member first, because it has the newest snapshot and the input log and
 * must let go of the connection; failing that (it is dead or silent), eagerly pushed state:
 * the newest record among this member's store and, with the push store, the replicas the other
 * reachable members hold. Asking them all matters after crashes: a member that restarted holds
 * no replica of older connections, and the dying owner's last push may have reached only some
 * members. Every record is opened against the connection id (seal + binding); one that fails is
 * reported through `onInvalid` and never used.
 */
export async function loadResumeState(args: {
  cid: string;
  /** The resume attempt asking (see `epoch` in the resume hello). */
  epoch: number;
  from: string;
  self: string;
  snapshotKey: Buffer;
  store: SnapshotStore;
  peers: PeerLinks;
  fetchTimeoutMs: number;
  /** Bound on each member's answer when replicas are gathered. */
  replicaTimeoutMs: number;
  onInvalid?: (where: string, err: MtcpError) => void;
}): Promise<LoadedState> {
  const t0 = performance.now();
  let peerError: unknown;
  const found: Array<{ where: string; raw: unknown }> = [];
  const asked = [args.self];
  // Follow forwarding pointers a few hops: a member may have taken the connection in a resume
  // whose answer the client never saw (it timed out and tried elsewhere).
  let from = args.from;
  for (let hop = 0; hop < MAX_FETCH_HOPS && !asked.includes(from); hop++) {
    asked.push(from);
    try {
      const res = await args.peers.fetch(from, args.cid, args.epoch, args.fetchTimeoutMs);
      if (res.ok && res.record !== undefined) {
        // A replica is one candidate among others; a released connection is the newest state.
        if (res.replica) {
          found.push({ where: from, raw: res.record });
          break;
        }
        const record = openRecord(args.snapshotKey, res.record, args.cid);
        const log = Buffer.from(res.log ?? '', 'base64');
        return { record, log, source: 'peer', ms: performance.now() - t0 };
      }
      peerError = res.error;
      // A newer attempt holds the connection: this one is stale and must not fall back to the store.
      if (res.error?.code === MtcpErrorCode.STALE) throw new MtcpError(MtcpErrorCode.STALE, res.error.message);
      if (res.movedTo === undefined) break;
      from = res.movedTo;
    } catch (err) {
      if (err instanceof MtcpError && (err.code === MtcpErrorCode.SNAPSHOT_INVALID || err.code === MtcpErrorCode.STALE)) throw err;
      peerError = err;
      break;
    }
  }
  const [local, replicas] = await Promise.all([
    args.store.load(args.cid).catch(() => undefined),
    args.store.kind === 'push' ? args.peers.loadReplicas(args.cid, asked, args.replicaTimeoutMs) : Promise.resolve([]),
  ]);
  if (local !== undefined) found.push({ where: 'store', raw: local });
  for (const r of replicas) found.push({ where: r.member, raw: r.record });
  let best: SnapshotRecord | undefined;
  let invalid: MtcpError | undefined;
  for (const f of found) {
    try {
      const record = openRecord(args.snapshotKey, f.raw, args.cid);
      if (!best || record.seq > best.seq) best = record;
    } catch (err) {
      invalid ??= err as MtcpError;
      args.onInvalid?.(f.where, err as MtcpError);
    }
  }
  if (best) return { record: best, log: Buffer.alloc(0), source: 'store', ms: performance.now() - t0 };
  if (invalid) throw invalid;
  const why = peerError instanceof Error ? peerError.message : peerError ? JSON.stringify(peerError) : 'no record';
  throw new MtcpError(MtcpErrorCode.STATE_UNAVAILABLE, `no state for connection ${args.cid} (old member ${args.from}: ${why}; store ${args.store.kind}: none)`);
}
