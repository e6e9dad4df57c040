import type { Socket } from 'node:net';
import type { DeviceIdentity } from '../auth/device-authenticator.js';

export type FrontProtocol = 'socks5' | 'http-connect';

export interface Destination {
  host: string;
  port: number;
  /** How the client named the host (SOCKS5 ATYP, or inferred for HTTP CONNECT). */
  addressType: 'ipv4' | 'ipv6' | 'domain';
}

/**
 * Why a CONNECT could not be served. The front turns each into the protocol's own reply
 * (SOCKS5 REP code, HTTP status); see `reply-codes.ts`.
 */
export type ConnectFailure =
  | 'general'
  | 'not-allowed'
  | 'network-unreachable'
  | 'host-unreachable'
  | 'refused'
  | 'ttl-expired'
  | 'timeout'
  | 'dns'
  | 'command-not-supported'
  | 'address-type-not-supported'
  /** The proxy cannot serve it right now: at capacity, or a backend it needs (names) is down. */
  | 'unavailable';

/**
 * A device connection whose handshake is complete up to (not including) the CONNECT reply:
 * credentials are verified, the destination is known. The proxy decides what to do with it and
 * then calls exactly one of `accept` or `reject`.
 */
export interface PendingConnect {
  protocol: FrontProtocol;
  identity: DeviceIdentity;
  destination: Destination;
  /**
   * The device socket: paused, with no listener of the front but a no-op 'error' guard. If the
   * device already sent FIN (a half-close right behind its request), `socket.readableEnded` is
   * true and no 'end' event will follow: Node emits 'end' even on a paused socket.
   */
  socket: Socket;
  /**
   * Bytes the client sent after its request that belong to the tunnel (a client may pipeline
   * data behind CONNECT). The proxy forwards them first.
   */
  head: Buffer;
  /**
   * When the front got the socket from `accept` (`nowMs()`): where a migration's
   * connect → first byte latency starts.
   */
  acceptedAt: number;
  /** Writes the success reply. The socket's data events are the proxy's from then on. */
  accept(bound: { address: string; port: number }): void;
  /** Writes the failure reply and closes the socket. */
  reject(reason: ConnectFailure): void;
  /**
   * Bytes the proxy has written to this socket so far (handshake replies). The device's
   * `tcpi_bytes_acked` counts them too; subtracting them gives the tunnel payload acknowledged.
   */
  preambleBytes(): number;
}
