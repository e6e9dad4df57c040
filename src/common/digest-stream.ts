import { createHash } from 'node:crypto';

const DIGEST = 32;

/**
 * The deterministic byte sequence tsmp's tests, demos and sample servers send: the
 * concatenation of SHA-256(`<seed>:0`), SHA-256(`<seed>:1`), … (issue 5's stream-server
 * protocol). Anyone can recompute any slice of it from outside.
 */
export function digestStreamSlice(seed: string, offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let written = 0;
  let block = Math.floor(offset / DIGEST);
  let skip = offset % DIGEST;
  while (written < length) {
    const digest = createHash('sha256').update(`${seed}:${block}`).digest();
    const take = Math.min(DIGEST - skip, length - written);
    digest.copy(out, written, skip, skip + take);
    written += take;
    skip = 0;
    block++;
  }
  return out;
}
