import { MtcpError, MtcpErrorCode } from '../errors.js';
import { MemorySnapshotStore } from './memory-store.js';
import type { SnapshotRecord } from './snapshot-record.js';
import type { SnapshotStore } from './snapshot-store.js';

/** What the push store needs from the member's peer links (server/peer-link.ts). */
export interface SnapshotPusher {
  /** How many other members there are. */
  readonly peerCount: number;
  /** Sends the record to every other member; resolves with how many acknowledged it. */
  pushToPeers(record: SnapshotRecord): Promise<number>;
  dropAtPeers(cid: string): Promise<void>;
}

/**
 * Eager transfer between the members of a pool on one machine or a LAN (M-TCP paper, eager
 * variant): every saved snapshot is kept locally and pushed to every other member, which keeps
 * it as a replica. `save` resolves when the reachable peers have acknowledged, and fails when no
 * other member did (the record would die with its owner): the session then does not COMMIT and
 * saves again (server/migratory-session.ts), so a COMMIT never gets ahead of every replica.
 * Records arriving from peers go through `acceptReplica` (already checked by the caller).
 */
export class PushSnapshotStore extends MemorySnapshotStore implements SnapshotStore {
  override readonly kind = 'push' as const;
  override readonly eager = true;
  private pusher: SnapshotPusher | undefined;

  setPusher(pusher: SnapshotPusher): void {
    this.pusher = pusher;
  }

  acceptReplica(record: SnapshotRecord): void {
    this.put(record);
  }

  override async save(record: SnapshotRecord): Promise<void> {
    this.put(record);
    if (!this.pusher || this.pusher.peerCount === 0) return;
    const acked = await this.pusher.pushToPeers(record);
    if (acked === 0) throw new MtcpError(MtcpErrorCode.STATE_UNAVAILABLE, `no other member acknowledged snapshot ${record.seq} of ${record.cid}`);
  }

  override async delete(cid: string): Promise<void> {
    this.records.delete(cid);
    if (this.pusher) await this.pusher.dropAtPeers(cid);
  }

  dropReplica(cid: string): void {
    this.records.delete(cid);
  }
}
