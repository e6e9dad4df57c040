/**
 * Frame and message types of the M-TCP wire protocol (docs/mtcp.md, "Wire format").
 *
 * A migration-aware peer opens with the 8-byte PREAMBLE, then both directions carry frames:
 *
 *    0        1                               5
 *   +--------+-------------------------------+---------------------+
 *   |  type  |   payload length (u32, BE)    |  payload (length B) |
 *   +--------+-------------------------------+---------------------+
 *
 * The preamble starts with 0x89, a byte no text protocol sends first, so a server built with the
 * kit recognises plain TCP clients from their first byte and serves them without migration
 * (issue 5: "Servers built with the kit still serve plain TCP clients").
 */
export const PREAMBLE = Buffer.from([0x89, 0x4d, 0x54, 0x43, 0x50, 0x0d, 0x0a, 0x01]); // \x89 "MTCP" CR LF v1

export const FRAME_HEADER_BYTES = 5;

/** Default bound on one frame's payload; DATA frames are cut to DATA_CHUNK_BYTES by senders. */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;
export const DATA_CHUNK_BYTES = 64 * 1024;

export const FrameType = {
  /** client → server, JSON: the first frame; says new connection, resume, or pool peer. */
  HELLO: 0x01,
  /** server → client, JSON: connection id, pool members, migration certificate. */
  WELCOME: 0x02,
  /** server → client, JSON: a resume was accepted; says where input replay starts. */
  RESUMED: 0x03,
  /** server → client, JSON {code, message}: the hello was refused; the socket closes. */
  REJECT: 0x04,
  /** either way: application bytes. */
  DATA: 0x10,
  /** client → server, u64: output bytes the client has received (cumulative). */
  ACK: 0x11,
  /** server → client, u64: input offset covered by a stored snapshot; the client may drop input below it. */
  COMMIT: 0x12,
  /** either way, empty: no more application bytes in this direction (half close). */
  END: 0x13,
  /** server → client, empty: sent when the server has been quiet, so silence means failure. */
  HEARTBEAT: 0x14,
  /** server → client, JSON: a fresh certificate before the old one expires. */
  CERT: 0x15,
  /** peer → member, JSON: a request between pool members (push, fetch, drop). */
  PEER_REQUEST: 0x20,
  /** member → peer, JSON: the answer to PEER_REQUEST with the same rid. */
  PEER_RESPONSE: 0x21,
} as const;

export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

const KNOWN = new Set<number>(Object.values(FrameType));

export function isFrameType(code: number): code is FrameTypeCode {
  return KNOWN.has(code);
}

export interface Frame {
  type: FrameTypeCode;
  payload: Buffer;
}
