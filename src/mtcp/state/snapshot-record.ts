import { createHash } from 'node:crypto';
import { z } from 'zod';
import { MtcpError, MtcpErrorCode } from '../errors.js';
import { hmac, macMatches } from '../cert/pool-keys.js';

/**
 * One snapshot of one connection, as the protocol moves it between members (M-TCP contract:
 * "moves the per-connection state; transfers output sent before the snapshot but not yet
 * acknowledged").
 *
 * - `in`: input bytes the application had consumed when it exported `state`;
 * - `out`: output bytes it had written;
 * - `unacked`: base64 of output [outAcked, out) the client had not confirmed at that moment.
 *
 * Sealed with the pool's snapshot key over every field including `cid`, so a record copied under
 * another connection's id (or edited in Redis) fails to open: a snapshot from one connection can
 * never be imported into another.
 */
export const snapshotRecordSchema = z.object({
  v: z.literal(1),
  cid: z.string(),
  seq: z.number().int().nonnegative(),
  owner: z.string(),
  takenAt: z.number(),
  in: z.number().int().nonnegative(),
  out: z.number().int().nonnegative(),
  outAcked: z.number().int().nonnegative(),
  /** JSON text of the application state; absent before the first export. */
  state: z.string().optional(),
  unacked: z.string(),
  mac: z.string(),
});
export type SnapshotRecord = z.infer<typeof snapshotRecordSchema>;
export type UnsealedRecord = Omit<SnapshotRecord, 'mac'>;

function sealInput(r: UnsealedRecord): string[] {
  const unackedHash = createHash('sha256').update(r.unacked).digest('base64url');
  return ['snapshot', r.cid, String(r.seq), r.owner, String(r.takenAt), String(r.in), String(r.out), String(r.outAcked), r.state ?? '\u0000none', unackedHash];
}

export function sealRecord(key: Buffer, r: UnsealedRecord): SnapshotRecord {
  return { ...r, mac: hmac(key, ...sealInput(r)).toString('base64url') };
}

/**
 * Validates shape and seal, and that the record belongs to `cid`. Throws ERR_MTCP_SNAPSHOT_INVALID.
 */
export function openRecord(key: Buffer, raw: unknown, cid: string): SnapshotRecord {
  const parsed = snapshotRecordSchema.safeParse(raw);
  if (!parsed.success) throw new MtcpError(MtcpErrorCode.SNAPSHOT_INVALID, 'snapshot record is malformed');
  const r = parsed.data;
  if (!macMatches(hmac(key, ...sealInput(r)), r.mac)) throw new MtcpError(MtcpErrorCode.SNAPSHOT_INVALID, 'snapshot seal does not verify');
  if (r.cid !== cid) throw new MtcpError(MtcpErrorCode.SNAPSHOT_INVALID, 'snapshot belongs to another connection');
  if (r.outAcked > r.out || Buffer.from(r.unacked, 'base64').length !== r.out - r.outAcked) {
    throw new MtcpError(MtcpErrorCode.SNAPSHOT_INVALID, 'snapshot output window is inconsistent');
  }
  return r;
}
