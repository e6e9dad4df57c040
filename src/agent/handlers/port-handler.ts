import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { TimeoutError } from '../../common/errors.js';
import { HandlerFailedError } from '../errors.js';
import type { HandlerContext, HandlerOutcome, ResumedStream, StreamHandler } from './handler-types.js';
import { endGracefully, whenClosed } from './stream-util.js';

export const DEFAULT_PORT_QUEUE_BYTES = 1024 * 1024;
export const DEFAULT_PORT_ATTACH_TIMEOUT_MS = 60_000;

export interface PortHandlerOptions {
  host: string;
  /** 0 picks a free port; `onListening` tells which. */
  port: number;
  /** Bytes of the stream kept while no client is attached; past it the stream is paused. @default 1 MiB */
  maxQueuedBytes?: number;
  /** How long a client has to attach before the stream is given up. @default 60000 */
  attachTimeoutMs?: number;
  /** How long to wait for one side's close once the other is gone. @default 5000 */
  closeTimeoutMs?: number;
  onListening?: (address: { host: string; port: number }) => void;
}

/**
 * `port:HOST:PORT`: exposes the resumed connection on a local port. Exactly one client may attach;
 * until it does, the stream's bytes queue up to `maxQueuedBytes`, then reading pauses so the proxy
 * (and through it the server) feels backpressure instead of the agent growing without bound.
 * The listener closes as soon as the client is attached, or when the attach timeout fires.
 */
export class PortHandler implements StreamHandler {
  readonly spec: string;
  readonly #options: Required<Omit<PortHandlerOptions, 'onListening'>> & Pick<PortHandlerOptions, 'onListening'>;

  constructor(options: PortHandlerOptions) {
    this.#options = {
      maxQueuedBytes: DEFAULT_PORT_QUEUE_BYTES,
      attachTimeoutMs: DEFAULT_PORT_ATTACH_TIMEOUT_MS,
      closeTimeoutMs: 5000,
      ...options,
    };
    this.spec = `port:${options.host}:${options.port}`;
  }

  async handle(resumed: ResumedStream, context: HandlerContext): Promise<HandlerOutcome> {
    const { stream } = resumed;
    const { host, port, maxQueuedBytes, attachTimeoutMs } = this.#options;
    // The upstream's end must not end our side: replies may still follow (half-close, RFC 9293 3.6).
    stream.allowHalfOpen = true;
    const queue: Buffer[] = [];
    let queued = 0;
    let upstreamEnded = false;
    let bytesIn = 0;
    let bytesOut = 0;
    const onQueueData = (chunk: Buffer) => {
      bytesIn += chunk.length;
      queue.push(chunk);
      queued += chunk.length;
      if (queued >= maxQueuedBytes) stream.pause();
    };
    const onQueueEnd = () => {
      upstreamEnded = true;
    };
    stream.on('data', onQueueData);
    stream.once('end', onQueueEnd);
    stream.resume();
    stream.on('error', (err) => context.logger.warn({ err: err.message }, 'resumed stream error'));

    const server = createServer({ allowHalfOpen: true });
    try {
      server.listen(port, host);
      await once(server, 'listening');
    } catch (err) {
      stream.destroy();
      throw new HandlerFailedError(`port handler cannot listen on ${host}:${port}: ${(err as Error).message}`, { cause: err });
    }
    const address = server.address();
    const bound = typeof address === 'object' && address ? { host: address.address, port: address.port } : { host, port };
    context.logger.info(bound, 'resumed stream waiting for a client');
    this.#options.onListening?.(bound);

    let client: Socket;
    try {
      client = await acceptOne(server, attachTimeoutMs, context.signal, stream, () => upstreamEnded);
    } catch (err) {
      stream.destroy();
      throw err;
    } finally {
      server.close();
    }

    stream.off('data', onQueueData);
    stream.off('end', onQueueEnd);
    for (const chunk of queue.splice(0)) client.write(chunk);
    queued = 0;
    client.on('error', (err) => context.logger.warn({ err: err.message }, 'port handler client error'));
    client.on('data', (chunk: Buffer) => {
      bytesOut += chunk.length;
    });
    if (upstreamEnded) client.end();
    else {
      stream.on('data', (chunk: Buffer) => {
        bytesIn += chunk.length;
      });
      stream.pipe(client);
      stream.resume();
    }
    if (stream.writable) client.pipe(stream);
    else client.resume();
    // Each side's close ends the other gracefully, within a bound.
    const closeTimeoutMs = this.#options.closeTimeoutMs;
    await Promise.all([
      whenClosed(stream).then(() => endGracefully(client, closeTimeoutMs)),
      whenClosed(client).then(() => endGracefully(stream, closeTimeoutMs)),
    ]);
    return { handler: this.spec, bytesIn, bytesOut };
  }
}

/** The first client to connect; later ones are refused by closing the listener. */
function acceptOne(
  server: Server,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  stream: ResumedStream['stream'],
  endedCleanly: () => boolean,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new TimeoutError('waiting for a client on the port handler', timeoutMs)), timeoutMs);
    const onAbort = () => finish(new HandlerFailedError('port handler aborted'));
    // A stream that ended cleanly keeps its queued bytes for the client; only a reset gives up.
    const onStreamClose = () => {
      if (!endedCleanly()) finish(new HandlerFailedError('resumed stream reset before a client attached'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.once('close', onStreamClose);
    server.once('connection', (socket: Socket) => finish(undefined, socket));
    function finish(err?: Error, socket?: Socket) {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      stream.off('close', onStreamClose);
      if (socket) resolve(socket);
      else reject(err);
    }
  });
}
