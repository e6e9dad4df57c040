import { connect, type LookupFunction, type Socket } from 'node:net';
import type { ReadBlockPool } from '../relay/read-block-pool.js';
import { TsmpError } from '../../common/errors.js';
import { formatHostPort } from '../../common/host-port.js';
import { classifyDialError } from '../wire/reply-codes.js';
import type { ConnectFailure, Destination } from './types.js';

/** Default bound on name resolution plus the TCP handshake to a destination. */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000;

export interface DialOptions {
  /** Bound on resolution plus connect; past it the attempt is abandoned as `timeout`. */
  timeoutMs: number;
  /** Aborting gives up the attempt; a `TimeoutError` reason (AbortSignal.timeout) counts as `timeout`. */
  signal?: AbortSignal;
  /** Resolver, for tests and for a proxy that must not use the system one. */
  lookup?: LookupFunction;
  /** Source address of the server-side socket. */
  localAddress?: string;
  /** Read through this pool (no allocation per read; read-block-pool.ts). */
  readPool?: ReadBlockPool;
}

/**
 * A destination that could not be reached. `failure` is what the front replies with (see
 * `reply-codes.ts`); `code` is `ERR_DIAL_<FAILURE>`, e.g. `ERR_DIAL_REFUSED`, `ERR_DIAL_DNS`.
 */
export class DialError extends TsmpError {
  readonly failure: ConnectFailure;
  readonly destination: string;

  constructor(failure: ConnectFailure, destination: string, options?: { cause?: unknown; detail?: string }) {
    super(
      `ERR_DIAL_${failure.toUpperCase().replace(/-/g, '_')}`,
      `cannot reach ${destination}: ${options?.detail ?? failure}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.failure = failure;
    this.destination = destination;
  }
}

/**
 * Opens the server-side sub-connection. Resolves with a connected socket (Nagle off: the relay
 * forwards what the device wrote as soon as it has it), or rejects with a `DialError`. No socket
 * is left behind on failure.
 */
export function dialDestination(destination: Pick<Destination, 'host' | 'port'>, options: DialOptions): Promise<Socket> {
  const name = formatHostPort(destination);
  const { timeoutMs, signal } = options;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    return Promise.reject(new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`));
  }
  if (signal?.aborted) return Promise.reject(abortError(signal, name));
  if (!Number.isInteger(destination.port) || destination.port < 1 || destination.port > 65535) {
    // Port 0 cannot be connected to; say so before the kernel does with a less clear errno.
    return Promise.reject(new DialError('host-unreachable', name, { detail: `invalid port ${destination.port}` }));
  }

  return new Promise<Socket>((resolve, reject) => {
    const socket: Socket = connect({
      host: destination.host,
      port: destination.port,
      noDelay: true,
      ...(options.readPool ? options.readPool.socketOptions(() => socket) : {}),
      ...(options.lookup ? { lookup: options.lookup } : {}),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const timer = setTimeout(() => {
      fail(new DialError('timeout', name, { detail: `no connection within ${timeoutMs} ms` }));
    }, timeoutMs);
    const onAbort = (): void => fail(abortError(signal as AbortSignal, name));
    const onError = (err: Error): void => {
      fail(new DialError(classifyDialError(err), name, { cause: err, detail: (err as { code?: string }).code }));
    };
    const onConnect = (): void => {
      cleanup();
      socket.setNoDelay(true);
      resolve(socket);
    };
    function cleanup(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('connect', onConnect);
    }
    function fail(err: DialError): void {
      cleanup();
      // A late error from the destroyed socket must not become an unhandled 'error' event.
      socket.on('error', () => {});
      socket.destroy();
      reject(err);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once('connect', onConnect);
  });
}

function abortError(signal: AbortSignal, name: string): DialError {
  const reason: unknown = signal.reason;
  const isTimeout = reason instanceof Error && reason.name === 'TimeoutError';
  return new DialError(isTimeout ? 'timeout' : 'general', name, { cause: reason, detail: 'aborted' });
}
