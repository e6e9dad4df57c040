import { connect, type Socket } from 'node:net';
import { TimeoutError } from '../../common/errors.js';
import { SocksClientError } from '../errors.js';
import { Socks5ClientHandshake } from './socks5-client-handshake.js';
import { ticketHost } from './socks5-codes.js';

export const DEFAULT_PROXY_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface ProxyConnectOptions {
  /** The proxy's SOCKS5 front. */
  proxy: { host: string; port: number };
  /** The device's DID and token (RFC 1929 username and password). */
  did?: string;
  token?: string;
  /** Connect + handshake must complete within this. @default 10000 */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Send greeting, credentials and CONNECT in one write (one round trip instead of three; see
   * Socks5ClientHandshake). tsmp's proxy reads pipelined handshakes; turn it off for a SOCKS5
   * server that does not. @default true
   */
  pipeline?: boolean;
}

export interface ProxyTunnel {
  socket: Socket;
  /** BND.ADDR/BND.PORT of the proxy's reply. */
  bound: { host: string; port: number };
}

/**
 * Opens a tunnel through the proxy to `host:port`, authenticated as the device. The socket is
 * half-open capable, since a resumed stream may be half-closed by either end. It is returned
 * paused: the caller resumes it (pipe, for-await or `resume()`).
 */
export async function connectViaProxy(host: string, port: number, options: ProxyConnectOptions): Promise<ProxyTunnel> {
  const handshake = new Socks5ClientHandshake({
    host,
    port,
    ...(options.did !== undefined ? { username: options.did, password: options.token ?? '' } : {}),
    pipeline: options.pipeline ?? true,
  });
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROXY_HANDSHAKE_TIMEOUT_MS;
  const socket = connect({ host: options.proxy.host, port: options.proxy.port, allowHalfOpen: true });
  socket.setNoDelay(true);
  return new Promise<ProxyTunnel>((resolve, reject) => {
    const timer = setTimeout(() => fail(new TimeoutError(`SOCKS5 handshake with ${options.proxy.host}:${options.proxy.port}`, timeoutMs)), timeoutMs);
    const onAbort = () => fail(new SocksClientError('ERR_ABORTED', 'proxy connection aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const onError = (err: Error) =>
      fail(new SocksClientError('ERR_PROXY_UNREACHABLE', `cannot reach the proxy at ${options.proxy.host}:${options.proxy.port}: ${err.message}`, undefined, { cause: err }));
    const onClose = () => fail(new SocksClientError('ERR_SOCKS_PROTOCOL', 'the proxy closed the connection during the SOCKS5 handshake'));
    const onData = (chunk: Buffer) => {
      try {
        const step = handshake.feed(chunk);
        if (step.kind === 'send') socket.write(step.data);
        else if (step.kind === 'done') {
          cleanup();
          // Paused, so no tunnel byte is emitted before the caller listens; bytes that came with
          // the reply are put back to be read first.
          socket.pause();
          if (step.rest.length) socket.unshift(step.rest);
          resolve({ socket, bound: step.bound });
        }
      } catch (err) {
        fail(err as Error);
      }
    };
    socket.once('connect', () => socket.write(handshake.start()));
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
    function cleanup() {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    }
    function fail(err: Error) {
      cleanup();
      socket.destroy();
      reject(err);
    }
  });
}

/** Attach by ticket: CONNECT to `<ticket>.ticket.tsmp.invalid` (docs/CONTRACTS.md); any port. */
export function attachByTicket(ticket: string, options: ProxyConnectOptions): Promise<ProxyTunnel> {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(ticket)) {
    return Promise.reject(new SocksClientError('ERR_BAD_TICKET', 'a migration ticket is letters, digits, - and _ only'));
  }
  return connectViaProxy(ticketHost(ticket), 1, options);
}
