import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { HandlerFailedError } from '../errors.js';
import type { HandlerContext, HandlerOutcome, ResumedStream, StreamHandler } from './handler-types.js';
import { endGracefully } from './stream-util.js';

export interface FileHandlerOptions {
  path: string;
  /** How long to wait for the peer's close once the stream has ended. @default 5000 */
  closeTimeoutMs?: number;
}

/**
 * `file:PATH`: appends the rest of the stream to PATH (a download continued on the new device;
 * the phone's part followed by this part is the whole file). Nothing is sent upstream.
 */
export class FileHandler implements StreamHandler {
  readonly spec: string;
  readonly #path: string;
  readonly #closeTimeoutMs: number;

  constructor(options: FileHandlerOptions) {
    this.#path = options.path;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 5000;
    this.spec = `file:${options.path}`;
  }

  async handle(resumed: ResumedStream, context: HandlerContext): Promise<HandlerOutcome> {
    const { stream } = resumed;
    const file = createWriteStream(this.#path, { flags: 'a' });
    let bytesIn = 0;
    try {
      await pipeline(
        stream,
        async function* count(source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            bytesIn += chunk.length;
            yield chunk;
          }
        },
        file,
        context.signal ? { signal: context.signal, end: true } : { end: true },
      );
    } catch (err) {
      stream.destroy();
      throw new HandlerFailedError(`file handler for ${this.#path} failed: ${(err as Error).message}`, { cause: err });
    }
    await endGracefully(stream, this.#closeTimeoutMs);
    context.logger.info({ path: this.#path, bytesIn }, 'stream appended to file');
    return { handler: this.spec, bytesIn, bytesOut: 0 };
  }
}
