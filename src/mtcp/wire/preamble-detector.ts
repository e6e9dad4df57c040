import { PREAMBLE } from './frame-types.js';

/**
 * Decides, from a connection's first bytes, whether the peer speaks M-TCP (it sent PREAMBLE)
 * or is a plain TCP client. An explicit state machine: DETECTING until the bytes seen so far
 * either complete the preamble or stop matching it.
 */
export const DETECT_STATES = { DETECTING: 'detecting', MIGRATORY: 'migratory', PLAIN: 'plain' } as const;
export type DetectState = (typeof DETECT_STATES)[keyof typeof DETECT_STATES];

export type DetectResult =
  | { state: typeof DETECT_STATES.DETECTING }
  /** `rest`: bytes after the preamble (frames). */
  | { state: typeof DETECT_STATES.MIGRATORY; rest: Buffer }
  /** `head`: every byte received so far, to hand to the application unchanged. */
  | { state: typeof DETECT_STATES.PLAIN; head: Buffer };

export class PreambleDetector {
  private state: DetectState = DETECT_STATES.DETECTING;
  private seen: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): DetectResult {
    switch (this.state) {
      case DETECT_STATES.DETECTING: {
        this.seen = this.seen.length === 0 ? chunk : Buffer.concat([this.seen, chunk]);
        const n = Math.min(this.seen.length, PREAMBLE.length);
        if (!this.seen.subarray(0, n).equals(PREAMBLE.subarray(0, n))) {
          this.state = DETECT_STATES.PLAIN;
          return { state: this.state, head: this.seen };
        }
        if (this.seen.length < PREAMBLE.length) return { state: DETECT_STATES.DETECTING };
        this.state = DETECT_STATES.MIGRATORY;
        return { state: this.state, rest: this.seen.subarray(PREAMBLE.length) };
      }
      case DETECT_STATES.MIGRATORY:
        return { state: this.state, rest: chunk };
      case DETECT_STATES.PLAIN:
        return { state: this.state, head: chunk };
    }
  }
}
