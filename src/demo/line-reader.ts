import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { BufferLimitError } from '../common/errors.js';
import { waitFor } from './waits.js';

/** Longest partial line the chat keeps before it gives up on the peer. */
const MAX_PARTIAL_LINE = 64 * 1024;

export interface LineReader {
  /** Every complete line read so far, in order. */
  readonly all: string[];
  /** Waits, bounded, for the next line not yet returned. */
  next(timeoutMs?: number): Promise<string>;
}

/**
 * Reads `\n`-terminated lines from a stream. Decodes with a StringDecoder instead of
 * `setEncoding`, so the stream still emits Buffers for whoever else counts its bytes.
 */
export function lineReader(stream: Duplex): LineReader {
  const all: string[] = [];
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let read = 0;
  stream.on('data', (chunk: Buffer) => {
    pending += decoder.write(chunk);
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      all.push(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
    if (pending.length > MAX_PARTIAL_LINE) stream.destroy(new BufferLimitError('chat line', MAX_PARTIAL_LINE));
  });
  stream.on('error', () => undefined);
  stream.resume();
  return {
    all,
    async next(timeoutMs = 5_000): Promise<string> {
      await waitFor('the next chat line', () => read < all.length, timeoutMs);
      return all[read++]!;
    },
  };
}
