import { createHash } from 'node:crypto';
import { digestStreamSlice } from '../../common/digest-stream.js';

/**
 * The sample stream service's protocol (issue 5, exactly specified so anyone can check it):
 * the client sends `STREAM <seed> <length>\n`; the answer is `length` bytes, the concatenation of
 * SHA-256(`<seed>:0`), SHA-256(`<seed>:1`), … truncated to `length`. Pure functions only.
 */
export const DIGEST_BYTES = 32;
export const MAX_REQUEST_LINE = 1024;
/** Largest length a request may ask for (1 TiB): keeps offsets well inside 2^53. */
export const MAX_STREAM_LENGTH = 2 ** 40;

export interface StreamRequest {
  seed: string;
  length: number;
}

/** Parses one request line (without its `\n`); undefined when it is not a valid request. */
export function parseStreamRequest(line: string): StreamRequest | undefined {
  const m = /^STREAM ([!-~]{1,200}) (\d{1,15})\r?$/.exec(line);
  if (!m) return undefined;
  const length = Number(m[2]);
  if (length > MAX_STREAM_LENGTH) return undefined;
  return { seed: m[1]!, length };
}

export function formatStreamRequest(r: StreamRequest): string {
  return `STREAM ${r.seed} ${r.length}\n`;
}

/**
 * The bytes [offset, offset + n) of the stream for `seed` (n is clamped by the caller): the same
 * digest sequence tsmp's proxy tests and demo use.
 */
export function streamBytes(seed: string, offset: number, n: number): Buffer {
  return digestStreamSlice(seed, offset, n);
}

/** SHA-256 of a whole expected stream, computed incrementally (for checks without holding it). */
export function expectedStreamHash(seed: string, length: number): string {
  const h = createHash('sha256');
  const step = 1 << 16;
  for (let off = 0; off < length; off += step) h.update(streamBytes(seed, off, Math.min(step, length - off)));
  return h.digest('hex');
}
