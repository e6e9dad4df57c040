import type { Duplex } from 'node:stream';
import { TimeoutError } from '../../common/errors.js';
import { formatHostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/logger.js';
// The public class (exported as tsmp/mtcp), from its own module so the proxy does not load the
// kit's Redis store and examples.
import { MtcpClientConnection } from '../../mtcp/client/client-connection.js';
import { DialError, dialDestination } from '../front/dial.js';
import type { ReadBlockPool } from '../relay/read-block-pool.js';
import type { Destination } from '../front/types.js';
import { classifyDialError } from '../wire/reply-codes.js';
import { MtcpPoolTable, type MtcpUpstreamOptions } from './mtcp-pools.js';

/** The server side of a new relayed connection, and what the CONNECT reply reports as bound. */
export interface Upstream {
  server: Duplex;
  bound: { address: string; port: number };
  /** Set when the destination is an M-TCP pool: the proxy is the client-side endpoint. */
  mtcp?: MtcpClientConnection;
}

export interface UpstreamDialOptions {
  /** Bound on reaching the destination (resolution + TCP, or the M-TCP first contact). */
  timeoutMs: number;
  /** TCP keepalive idle time on a plain server socket. */
  keepaliveMs: number;
  /** Plain server sockets read through this pool (read-block-pool.ts). */
  readPool?: ReadBlockPool;
}

export const MTCP_UPSTREAM_DEFAULTS = { silenceTimeoutMs: 3000, handshakeTimeoutMs: 3000 } as const;

/**
 * Opens the server side of a CONNECT: a plain TCP socket, or, when the destination is a member
 * address of a configured M-TCP pool, an `MtcpClientConnection` (docs/mtcp.md "Using it from the
 * proxy"): it migrates by itself when the member resets or falls silent, and by the throughput
 * policy when one is configured. Both are Duplexes the relay reads and writes the same way.
 */
export class UpstreamDialer {
  private readonly pools: MtcpPoolTable;

  constructor(
    private readonly mtcp: MtcpUpstreamOptions | undefined,
    private readonly log: Logger,
  ) {
    this.pools = new MtcpPoolTable(mtcp?.pools ?? []);
  }

  /** True when a CONNECT to `destination` goes through M-TCP. */
  isPool(destination: Pick<Destination, 'host' | 'port'>): boolean {
    return this.pools.match(destination) !== undefined;
  }

  async dial(destination: Pick<Destination, 'host' | 'port'>, options: UpstreamDialOptions): Promise<Upstream> {
    const pool = this.pools.match(destination);
    if (!pool) {
      const socket = await dialDestination(destination, { timeoutMs: options.timeoutMs, ...(options.readPool ? { readPool: options.readPool } : {}) });
      socket.setKeepAlive(true, options.keepaliveMs);
      return { server: socket, bound: { address: socket.localAddress ?? '0.0.0.0', port: socket.localPort ?? 0 } };
    }
    const o = this.mtcp!;
    const handshakeTimeoutMs = Math.min(o.handshakeTimeoutMs ?? MTCP_UPSTREAM_DEFAULTS.handshakeTimeoutMs, options.timeoutMs);
    const conn = new MtcpClientConnection({
      members: this.pools.firstContact(destination, pool),
      autoMigrate: true,
      handshakeTimeoutMs,
      silenceTimeoutMs: o.silenceTimeoutMs ?? MTCP_UPSTREAM_DEFAULTS.silenceTimeoutMs,
      ...(o.policyFraction !== undefined ? { policy: { fraction: o.policyFraction } } : {}),
      logger: this.log,
    });
    const name = formatHostPort(destination);
    const connecting = conn.connect();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DialError('timeout', name, { detail: `no M-TCP member welcomed the connection within ${options.timeoutMs} ms` })), options.timeoutMs);
    });
    try {
      await Promise.race([connecting, deadline]);
    } catch (err) {
      // connect() is bounded by its own per-member timeouts; whatever it ends with is released.
      connecting.then(() => conn.destroy(), () => conn.destroy());
      if (err instanceof DialError) throw err;
      const failure = err instanceof TimeoutError ? 'timeout' : classifyDialError(err);
      throw new DialError(failure, name, { cause: err, detail: `M-TCP first contact failed: ${(err as Error).message}` });
    } finally {
      clearTimeout(timer);
    }
    this.log.debug({ destination: name, cid: conn.cid, member: conn.member }, 'M-TCP connection to the pool');
    // The proxy's own address toward the member is not exposed through the Duplex.
    return { server: conn, bound: { address: '0.0.0.0', port: 0 }, mtcp: conn };
  }
}
