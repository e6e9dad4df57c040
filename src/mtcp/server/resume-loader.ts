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
 * must let go of the connection; failing that (it is dead or silent), eagerly pushed state from
 * the store. Every record is opened against the connection id (seal + binding).
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
}): Promise<LoadedState> {
  const t0 = performance.now();
  let peerError: unknown;
  // Follow forwarding pointers a few hops: a member may have taken the connection in a resume
  // whose answer the client never saw (it timed out and tried elsewhere).
  let from = args.from;
  for (let hop = 0; hop < MAX_FETCH_HOPS && from !== args.self; hop++) {
    try {
      const res = await args.peers.fetch(from, args.cid, args.epoch, args.fetchTimeoutMs);
      if (res.ok && res.record !== undefined) {
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
  const raw = await args.store.load(args.cid).catch(() => undefined);
  if (raw !== undefined) {
    return { record: openRecord(args.snapshotKey, raw, args.cid), log: Buffer.alloc(0), source: 'store', ms: performance.now() - t0 };
  }
  const why = peerError instanceof Error ? peerError.message : peerError ? JSON.stringify(peerError) : 'no record';
  throw new MtcpError(MtcpErrorCode.STATE_UNAVAILABLE, `no state for connection ${args.cid} (old member ${args.from}: ${why}; store ${args.store.kind}: none)`);
}
