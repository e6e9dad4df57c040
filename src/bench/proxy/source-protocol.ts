/**
 * The tiny protocol between the load generator and the source server. The client's first byte
 * picks what the server does with the connection, so one server port serves every measurement
 * and haproxy needs a single frontend. Every relay under test (direct, haproxy, tsmp) passes the
 * byte through untouched.
 */
export const MODE = {
  /** Stream as fast as the connection takes it, until the client goes away. */
  bulk: 0x42, // 'B'
  /** Read a request of REQUEST_BYTES (mode byte included), answer RESPONSE_BYTES, then FIN. */
  request: 0x52, // 'R'
  /** Accept and hold; send nothing. */
  idle: 0x49, // 'I'
  /** A throttled pattern stream (see `patternSlice`), for migrations mid-stream. */
  stream: 0x53, // 'S'
} as const;
export type Mode = (typeof MODE)[keyof typeof MODE];

export const REQUEST_BYTES = 32;
export const RESPONSE_BYTES = 32;

/** Period of the pattern stream: a prime, so an offset error shows up within a few bytes. */
const PATTERN_PERIOD = 251;

/** Byte `i` of the pattern stream is `i mod 251`: cheap enough for 1,000 streams at once. */
export function patternByte(offset: number): number {
  return offset % PATTERN_PERIOD;
}

const PATTERN = Buffer.from(Array.from({ length: PATTERN_PERIOD * 64 }, (_, i) => i % PATTERN_PERIOD));

/** Bytes [offset, offset + length) of the pattern stream; length ≤ 251 × 63. */
export function patternSlice(offset: number, length: number): Buffer {
  const start = offset % PATTERN_PERIOD;
  if (start + length > PATTERN.length) throw new RangeError(`pattern slice of ${length} bytes is too long`);
  return PATTERN.subarray(start, start + length);
}

/** Index of the first byte of `data` that is not the pattern stream at `offset`, or -1. */
export function patternMismatch(data: Buffer, offset: number): number {
  // memcmp against the pattern in slices (Buffer#compare is native): the load generator checks
  // 10,000 chunks a second during the migration figure, and its CPU is the proxy's neighbour's.
  const most = PATTERN.length - PATTERN_PERIOD;
  for (let at = 0; at < data.length; at += most) {
    const n = Math.min(most, data.length - at);
    if (data.compare(patternSlice(offset + at, n), 0, n, at, at + n) !== 0) return at + firstMismatch(data.subarray(at, at + n), offset + at);
  }
  return -1;
}

function firstMismatch(data: Buffer, offset: number): number {
  let expected = offset % PATTERN_PERIOD;
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== expected) return i;
    expected = expected === PATTERN_PERIOD - 1 ? 0 : expected + 1;
  }
  return -1;
}
