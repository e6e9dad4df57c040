import { createHash, type Hash } from 'node:crypto';
import { expectedStreamHash } from '../mtcp/examples/stream-protocol.js';

/**
 * Byte-exact check of one sample stream (`STREAM <seed> <length>`) as the benchmark's clients
 * receive it: the received bytes are hashed as they come (cheap, ~1 ms per MB, so it does not
 * weigh on the timings), and `verify()` compares that with the SHA-256 of the expected prefix of
 * the same length, computed afterwards, outside the timed part.
 */
export class StreamCheck {
  private readonly hash: Hash = createHash('sha256');
  received = 0;

  constructor(readonly seed: string) {}

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.received += chunk.length;
  }

  /** Call once, when no more bytes are taken. */
  verify(): { seed: string; bytes: number; exact: boolean } {
    const got = this.hash.digest('hex');
    return { seed: this.seed, bytes: this.received, exact: got === expectedStreamHash(this.seed, this.received) };
  }
}
