import type { Duplex } from 'node:stream';

/**
 * Where a resumed stream waits for a legacy app that reconnects through the agent's SOCKS
 * endpoint. The `app` handler offers the stream; the endpoint's next CONNECT to the same
 * destination takes it instead of opening a new tunnel. Implemented by `socks-endpoint/`.
 */
export interface StreamPickup {
  /** The endpoint the app must use (`ALL_PROXY=socks5h://HOST:PORT`). */
  endpoint(): { host: string; port: number } | undefined;
  /**
   * Offers `stream` to the next local CONNECT to `destination` (`host:port`). Settles once that
   * client has taken it (not when it is finished); rejects after `timeoutMs` or on `signal`.
   */
  offer(destination: string, stream: Duplex, timeoutMs: number, signal?: AbortSignal): Promise<void>;
}
