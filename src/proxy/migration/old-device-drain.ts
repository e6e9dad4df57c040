import type { DeviceLink } from '../relay/device-link.js';
import type { RelayConnection } from '../relay/relay-connection.js';

/**
 * How a migration lets go of the old device (issue 6, "no byte lost or repeated").
 *
 * Bytes the proxy wrote to the old device but that it has not acknowledged are still on their
 * way: in the proxy's send queue, in the bottleneck's queue, or on the wire. A reset discards
 * only what is still in the proxy's kernel; what is already on the wire reaches the old device
 * ahead of the reset, its TCP acknowledges it and its application reads it. Replaying those
 * bytes to the new device as well delivers them twice (measured: 13–60 KB per migration on the
 * evaluation's 1 Mbit/s links).
 *
 * So an old device that is still connected is waited for while it makes progress: as long as
 * its acknowledged count keeps advancing, it is draining, and it gets a FIN once it acknowledged
 * everything (exact: the new device starts where the old one ended, nothing is replayed). It is
 * cut only when it stalls — no new acknowledgement for max(`stallFloorMs`, `stallRtts` × its
 * smoothed RTT) — or when the migration's deadline comes. A stall means the device is gone or
 * its application stopped reading; then the bytes between its acknowledged and its sent offset
 * are *in doubt* (they may or may not reach it), and the migration record says how many.
 */
export interface DrainPolicy {
  /** Shortest time without a new acknowledgement that counts as a stall, ms. */
  stallFloorMs: number;
  /** A stall is also at least this many smoothed RTTs of the old device's connection. */
  stallRtts: number;
  /** How often the kernel is asked (one getsockopt), ms. */
  pollMs: number;
  /** Epoch ms after which the device is cut whatever it does (the migration's own deadline). */
  deadline: number;
}

export type DrainOutcome =
  /** Everything written was acknowledged: the old device gets a FIN, nothing is replayed. */
  | 'drained'
  /** The old device vanished (reset, error) while we waited, or was gone already. */
  | 'lost'
  /** No acknowledgement for the stall time: cut with a reset. */
  | 'stalled'
  /** The migration's deadline came first: cut with a reset. */
  | 'deadline';

/** Waits for the old device per the policy; resolves with why the wait ended. */
export async function drainOldDevice(conn: RelayConnection, policy: DrainPolicy): Promise<DrainOutcome> {
  const link = conn.device;
  if (!link) return 'lost';
  let lastAcked = link.ackedOffset();
  let lastProgress = Date.now();
  for (;;) {
    // Checked first, so a device that has drained already (loopback, idle) costs no wait at all.
    if (conn.device !== link || conn.state === 'closed') return 'lost';
    if (conn.holderDrained()) return 'drained';
    const now = Date.now();
    const acked = link.ackedOffset();
    if (acked > lastAcked) {
      lastAcked = acked;
      lastProgress = now;
    }
    if (now - lastProgress >= stallMs(link, policy)) return 'stalled';
    if (now >= policy.deadline) return 'deadline';
    await new Promise((resolve) => setTimeout(resolve, policy.pollMs));
  }
}

function stallMs(link: DeviceLink, policy: DrainPolicy): number {
  const rtt = link.smoothedRttMs();
  return rtt === undefined ? policy.stallFloorMs : Math.max(policy.stallFloorMs, policy.stallRtts * rtt);
}
