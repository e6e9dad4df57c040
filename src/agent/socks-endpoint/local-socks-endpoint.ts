import { createServer, isIP, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { ConfigError } from '../../common/errors.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import { SocksClientError } from '../errors.js';
import { connectViaProxy } from '../proxy-client/connect-via-proxy.js';
import { REPLY } from '../proxy-client/socks5-codes.js';
import { PickupBoard } from './pickup-board.js';
import { buildReply, Socks5NoAuthServerHandshake } from './socks5-noauth-handshake.js';

export interface LocalSocksEndpointOptions {
  /** Loopback address and port; anything but loopback is refused (this endpoint has no auth). */
  host: string;
  port: number;
  /** The proxy and the device's credentials used for every forwarded connection. */
  proxy: () => { host: string; port: number } | undefined;
  credentials: () => { did: string; token: string } | undefined;
  /** A client must finish its handshake within this. @default 10000 */
  handshakeTimeoutMs?: number;
  /** Connections open at once through the endpoint. @default 256 */
  maxConnections?: number;
  pickup?: PickupBoard;
  logger?: Logger;
}

/**
 * The agent's local SOCKS5 endpoint (issue 4, "Local proxy endpoint"): SOCKS5 without
 * authentication on loopback, forwarding every CONNECT to the proxy with the device's
 * credentials. A CONNECT that matches a resumed stream waiting on the pickup board gets that
 * stream instead (the `app` handler).
 */
export class LocalSocksEndpoint {
  readonly pickup: PickupBoard;
  readonly #options: LocalSocksEndpointOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #logger: Logger;

  constructor(options: LocalSocksEndpointOptions) {
    if (!isLoopback(options.host)) throw new ConfigError(`--socks must be a loopback address (it has no authentication), got ${options.host}`);
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.pickup = options.pickup ?? new PickupBoard();
    this.#server = createServer({ allowHalfOpen: true }, (socket) => this.#onConnection(socket));
    this.#server.maxConnections = options.maxConnections ?? 256;
  }

  async listen(): Promise<{ host: string; port: number }> {
    this.#server.listen(this.#options.port, this.#options.host);
    await once(this.#server, 'listening');
    const a = this.#server.address() as { address: string; port: number };
    const address = { host: a.address, port: a.port };
    this.pickup.setEndpoint(address);
    return address;
  }

  async close(): Promise<void> {
    this.pickup.setEndpoint(undefined);
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #onConnection(client: Socket): void {
    this.#sockets.add(client);
    client.once('close', () => this.#sockets.delete(client));
    client.on('error', (err) => this.#logger.debug({ err: err.message }, 'socks client error'));
    const handshake = new Socks5NoAuthServerHandshake();
    const timeoutMs = this.#options.handshakeTimeoutMs ?? 10_000;
    const timer = setTimeout(() => client.destroy(), timeoutMs);
    const onData = (chunk: Buffer) => {
      const step = handshake.feed(chunk);
      for (const b of step.send) client.write(b);
      if (step.error) {
        clearTimeout(timer);
        this.#logger.debug({ error: step.error }, 'socks handshake failed');
        client.end();
        return;
      }
      if (step.request) {
        clearTimeout(timer);
        client.off('data', onData);
        client.pause();
        void this.#serve(client, step.request.host, step.request.port, step.request.rest);
      }
    };
    client.on('data', onData);
  }

  async #serve(client: Socket, host: string, port: number, rest: Buffer): Promise<void> {
    const resumed = this.pickup.take(host, port);
    if (resumed) {
      this.#logger.info({ destination: `${host}:${port}` }, 'app picked up a resumed stream');
      client.write(buildReply(REPLY.SUCCEEDED));
      if (rest.length) resumed.write(rest);
      splice(client, resumed);
      return;
    }
    const proxy = this.#options.proxy();
    const credentials = this.#options.credentials();
    if (!proxy || !credentials) {
      client.end(buildReply(REPLY.GENERAL_FAILURE));
      return;
    }
    try {
      const tunnel = await connectViaProxy(host, port, { proxy, did: credentials.did, token: credentials.token });
      if (client.destroyed) {
        tunnel.socket.destroy();
        return;
      }
      client.write(buildReply(REPLY.SUCCEEDED, tunnel.bound));
      if (rest.length) tunnel.socket.write(rest);
      splice(client, tunnel.socket);
    } catch (err) {
      // The proxy's own REP passes through unchanged; failing to reach the proxy is a general failure.
      const reply = err instanceof SocksClientError && err.reply !== undefined ? err.reply : REPLY.GENERAL_FAILURE;
      this.#logger.info({ destination: `${host}:${port}`, err: (err as Error).message }, 'forward through proxy failed');
      client.end(buildReply(reply));
    }
  }
}

/** Relays both ways with backpressure (pipe), half-closes in order, and tears down on error. */
export function splice(a: Duplex, b: Duplex): void {
  a.allowHalfOpen = true;
  b.allowHalfOpen = true;
  a.pipe(b);
  b.pipe(a);
  const destroyBoth = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', destroyBoth);
  b.on('error', destroyBoth);
  // Once a side has fully closed, the other has nothing more to exchange.
  a.once('close', () => b.end());
  b.once('close', () => a.end());
  a.resume();
  b.resume();
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}
