import { z } from 'zod';
import { MtcpProtocolError } from '../errors.js';

/** JSON bodies of the control frames (frame-types.ts). Parsed strictly: unknown shapes are errors. */

const member = z.object({ id: z.string().min(1).max(128), address: z.string().min(1).max(300) });
export type PoolMemberInfo = z.infer<typeof member>;

const offset = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const cid = z.string().min(1).max(128);

export const helloSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('new') }),
  z.object({
    mode: z.literal('resume'),
    cid,
    cert: z.string().min(1).max(4096),
    /** Member the client was last attached to: where a lazy fetch goes. */
    from: z.string().min(1).max(128),
    /** Output bytes the client has received (it wants the stream from here). */
    out: offset,
    /** Input bytes the client has sent in total (it still holds those not committed). */
    in: offset,
    /** Input offset below which the client no longer holds bytes. */
    inHeld: offset,
    /**
     * The client's resume attempt counter, increasing over the connection's life. A member that
     * holds the connection from a later attempt refuses to give it to an earlier one, so a resume
     * whose answer the client never saw cannot take the connection back from a newer one.
     */
    epoch: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  }),
  z.object({
    mode: z.literal('peer'),
    member: z.string().min(1).max(128),
    ts: z.number().int(),
    nonce: z.string().min(8).max(64),
    mac: z.string().min(1).max(128),
  }),
]);
export type Hello = z.infer<typeof helloSchema>;

export const welcomeSchema = z.object({
  cid,
  member: z.string(),
  members: z.array(member).max(1024),
  cert: z.string(),
  certExpiresAt: z.number(),
});
export type Welcome = z.infer<typeof welcomeSchema>;

export const resumedSchema = welcomeSchema.extend({
  /** The client replays its input from this offset. */
  inFrom: offset,
  /** How the state reached this member and how long that took (the migration's transfer phase). */
  transfer: z.object({ source: z.enum(['local', 'peer', 'store']), ms: z.number().nonnegative() }),
});
export type Resumed = z.infer<typeof resumedSchema>;

export const rejectSchema = z.object({ code: z.string().max(64), message: z.string().max(1000) });
export type Reject = z.infer<typeof rejectSchema>;

export const certSchema = z.object({ cert: z.string(), certExpiresAt: z.number() });
export type CertUpdate = z.infer<typeof certSchema>;

export const peerRequestSchema = z.discriminatedUnion('op', [
  /** Eager transfer: a snapshot record (state/snapshot-record.ts), sealed by its owner. */
  z.object({ op: z.literal('push'), rid: z.number().int(), record: z.unknown() }),
  /** Lazy transfer: give me this connection's latest snapshot and input log, and let go of it. */
  z.object({ op: z.literal('fetch'), rid: z.number().int(), cid, epoch: z.number().int().nonnegative() }),
  /** Eager transfer without the owner: your replica of this connection's newest snapshot, if any (nothing is released). */
  z.object({ op: z.literal('load'), rid: z.number().int(), cid }),
  /** The connection ended; forget its replica. */
  z.object({ op: z.literal('drop'), rid: z.number().int(), cid }),
]);
export type PeerRequest = z.infer<typeof peerRequestSchema>;

export const peerResponseSchema = z.object({
  rid: z.number().int(),
  ok: z.boolean(),
  record: z.unknown().optional(),
  /** base64 of the input received since the snapshot (lazy transfer only). */
  log: z.string().optional(),
  /** fetch: the record is this member's stored replica, not a connection it held and released. */
  replica: z.boolean().optional(),
  /** fetch: the member this one handed the connection to (follow it). */
  movedTo: z.string().max(128).optional(),
  error: rejectSchema.optional(),
});
export type PeerResponse = z.infer<typeof peerResponseSchema>;

/** Parses a JSON control payload against its schema; any failure is a protocol error. */
export function parseControl<T>(schema: z.ZodType<T>, payload: Buffer, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new MtcpProtocolError(`${what}: payload is not JSON`, { cause: err });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new MtcpProtocolError(`${what}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}
