import { HandlerFailedError } from '../errors.js';
import { bridge, exitOf, migrationEnv, spawnShell } from './child-process-bridge.js';
import type { HandlerContext, HandlerOutcome, ResumedStream, StreamHandler } from './handler-types.js';
import { endGracefully } from './stream-util.js';

export interface ExecHandlerOptions {
  command: string;
  /** How long to wait for the peer's close once the command has exited. @default 5000 */
  closeTimeoutMs?: number;
}

/**
 * `exec:CMD`: the stream feeds CMD's stdin and CMD's stdout goes back upstream, for players that
 * can join a stream mid-way (MPEG-TS) or line protocols such as a chat (DESIGN.md, "Handing the
 * resumed stream"). The end of the stream closes CMD's stdin; the end of CMD's stdout half-closes
 * the stream upstream. The snapshot is in `$TSMP_SNAPSHOT`.
 */
export class ExecHandler implements StreamHandler {
  readonly spec: string;
  readonly #command: string;
  readonly #closeTimeoutMs: number;

  constructor(options: ExecHandlerOptions) {
    this.#command = options.command;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 5000;
    this.spec = `exec:${options.command}`;
  }

  async handle(resumed: ResumedStream, context: HandlerContext): Promise<HandlerOutcome> {
    const { stream } = resumed;
    // The upstream's end must not end our side: replies may still follow (half-close, RFC 9293 3.6).
    stream.allowHalfOpen = true;
    const child = spawnShell(this.#command, migrationEnv(resumed), context.logger, 'pipe');
    const onAbort = () => child.kill('SIGTERM');
    context.signal?.addEventListener('abort', onAbort, { once: true });
    // A reset upstream must not crash the agent; the command then sees EOF on stdin.
    stream.on('error', (err) => context.logger.warn({ err: err.message }, 'resumed stream error'));
    const { counts } = bridge(stream, child);
    let exitCode: number | null;
    try {
      exitCode = await exitOf(child);
    } catch (err) {
      stream.destroy();
      throw new HandlerFailedError(`exec handler could not run "${this.#command}": ${(err as Error).message}`, { cause: err });
    } finally {
      context.signal?.removeEventListener('abort', onAbort);
    }
    await endGracefully(stream, this.#closeTimeoutMs);
    const { bytesIn, bytesOut } = counts();
    context.logger.info({ command: this.#command, exitCode, bytesIn, bytesOut }, 'exec handler done');
    return { handler: this.spec, bytesIn, bytesOut, exitCode };
  }
}
