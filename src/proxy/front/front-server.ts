import { createServer, type Server, type Socket } from 'node:net';
import { createLogger } from '../../common/logger.js';
import { SOCKS5_VERSION } from '../wire/socks5-constants.js';
import { resolveFrontOptions, type FrontComponents, type FrontOptions } from './front-options.js';
import type { Handshake, HandshakeContext } from './handshake-context.js';
import { HandshakeConnection, type HandshakeFailure } from './handshake-connection.js';
import { HttpConnectHandshake } from './http-connect-handshake.js';
import { Socks5Handshake } from './socks5-handshake.js';
import type { FrontProtocol } from './types.js';

/**
 * Tells the two protocols of the one port apart by the first byte: SOCKS5 starts with its
 * version 0x05 (RFC 1928 section 3), an HTTP request with a method token, which is letters for
 * every registered method. Anything else (SOCKS4's 0x04, TLS's 0x16, noise) is neither.
 */
export function sniffProtocol(firstByte: number): FrontProtocol | null {
  if (firstByte === SOCKS5_VERSION) return 'socks5';
  if ((firstByte >= 0x41 && firstByte <= 0x5a) || (firstByte >= 0x61 && firstByte <= 0x7a)) return 'http-connect';
  return null;
}

export interface FrontStats {
  /** Handshakes in progress now. */
  pending: number;
  /** Handshakes completed and given to `onConnect`, since start. */
  handedOver: number;
  /** Handshakes that ended otherwise, by reason, since start. */
  failed: Record<HandshakeFailure, number>;
}

export type FrontHandler = ((socket: Socket) => void) & {
  stats(): FrontStats;
  /** Destroys every connection still in its handshake (shutdown). */
  closeAll(): void;
};

/**
 * Builds the accept handler of the proxy's port: give it each freshly accepted device socket.
 * Options are checked here, once; a bad one throws `ConfigError`.
 */
export function createFrontHandler(components: FrontComponents, options: FrontOptions = {}): FrontHandler {
  const resolved = resolveFrontOptions(options);
  const logger = components.logger ?? createLogger('proxy-front');
  const pending = new Set<HandshakeConnection>();
  const failed = Object.fromEntries(
    (
      [
        'overload', 'unknown-protocol', 'timeout', 'closed-early', 'socket-error', 'malformed', 'oversized',
        'no-acceptable-method', 'bad-credentials', 'auth-unavailable', 'command-not-supported',
        'method-not-allowed', 'onconnect-failed',
      ] satisfies HandshakeFailure[]
    ).map((k) => [k, 0]),
  ) as Record<HandshakeFailure, number>;
  let handedOver = 0;
  // The same for every connection: built once, not per accept.
  const connectionOptions = { timeoutMs: resolved.handshakeTimeoutMs, lingerMs: resolved.closeLingerMs, logger };

  const handle = (socket: Socket): void => {
    if (pending.size >= resolved.maxPendingHandshakes) {
      failed.overload++;
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    // Handshake replies are small request-answer writes; Nagle would only delay them.
    socket.setNoDelay(true);
    let handshake: Handshake | null = null;
    const connection: HandshakeConnection = new HandshakeConnection(
      socket,
      connectionOptions,
      {
        onData(chunk) {
          if (handshake === null) {
            const protocol = sniffProtocol(chunk[0] ?? -1);
            if (protocol === null) {
              connection.fail('unknown-protocol');
              return;
            }
            handshake = protocol === 'socks5' ? new Socks5Handshake(context) : new HttpConnectHandshake(context);
          }
          handshake.push(chunk);
        },
        onEnd() {
          if (handshake) handshake.onEnd();
          else connection.fail('closed-early');
        },
        onTimeout() {
          if (handshake) handshake.onTimeout();
          else connection.fail('timeout');
        },
        onFailed(reason) {
          failed[reason]++;
        },
        onSettled() {
          pending.delete(connection);
        },
      },
    );
    const context: HandshakeContext = {
      connection,
      authenticator: components.authenticator,
      options: resolved,
      logger,
      deliver(pendingConnect) {
        handedOver++;
        const onError = (err: unknown): void => {
          logger.error({ err }, 'onConnect failed');
          if (!pendingConnect.answered) {
            failed['onconnect-failed']++;
            pendingConnect.reject('general');
          }
        };
        try {
          const result = components.onConnect(pendingConnect);
          if (result instanceof Promise) result.catch(onError);
        } catch (err) {
          onError(err);
        }
      },
    };
    pending.add(connection);
  };

  return Object.assign(handle, {
    stats: (): FrontStats => ({ pending: pending.size, handedOver, failed: { ...failed } }),
    closeAll: (): void => {
      for (const connection of [...pending]) connection.socket.destroy();
    },
  });
}

/**
 * A listening `net.Server` running the front on each connection. Half-open is allowed so that a
 * device's FIN after its CONNECT reaches the relay as an ordinary half-close. On shutdown call
 * `server.close()` and `handler.closeAll()`; connections already handed over are the proxy's.
 */
export function createFrontServer(components: FrontComponents, options: FrontOptions = {}): { server: Server; handler: FrontHandler } {
  const handler = createFrontHandler(components, options);
  const server = createServer({ allowHalfOpen: true, noDelay: true }, handler);
  return { server, handler };
}
