import { randomFillSync } from 'node:crypto';
import type { RelayConnection } from '../relay/relay-connection.js';

/**
 * The relayed connections of one proxy, by id, with the totals that `/metrics` reports.
 * Connections leave the registry when they close.
 */
export class ConnectionRegistry {
  private readonly byId = new Map<string, RelayConnection>();
  opened = 0;
  closed = 0;
  /** Totals of connections already gone; live ones are summed on demand. */
  closedBytesDown = 0;
  closedBytesUp = 0;

  /** @param prefix leading hex digit(s) naming the worker process that holds the connection */
  constructor(private readonly prefix = '') {}

  /**
   * Random bytes for ids, drawn from the CSPRNG a few KiB at a time: a `randomBytes(4)` per
   * connection was 1 % of a connection-rate profile (docs/bench.md, "Connection rate").
   */
  private readonly entropy = Buffer.alloc(4096);
  private entropyAt = this.entropy.length;

  /** A short id (8 hex digits) that is easy to type in `tsmp migrate <id>`. */
  newId(): string {
    for (;;) {
      if (this.entropyAt + 4 > this.entropy.length) {
        randomFillSync(this.entropy);
        this.entropyAt = 0;
      }
      const hex = this.entropy.toString('hex', this.entropyAt, this.entropyAt + 4);
      this.entropyAt += 4;
      const id = (this.prefix + hex).slice(0, 8);
      if (!this.byId.has(id)) return id;
    }
  }

  add(conn: RelayConnection): void {
    this.byId.set(conn.id, conn);
    this.opened++;
    conn.once('closed', () => {
      this.byId.delete(conn.id);
      this.closed++;
      this.closedBytesDown += conn.bytesDown;
      this.closedBytesUp += conn.bytesUp;
    });
  }

  get(id: string): RelayConnection | undefined {
    return this.byId.get(id);
  }

  ofUser(uid: string): RelayConnection[] {
    return [...this.byId.values()].filter((c) => c.uid === uid);
  }

  all(): IterableIterator<RelayConnection> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }

  /** Where the holders are, when a name server tells (see `HolderWatch`). */
  presenceOf: ((did: string) => { coa: string | null; status: string } | undefined) | undefined;

  describe(conn: RelayConnection): Record<string, unknown> {
    const presence = conn.device ? this.presenceOf?.(conn.device.identity.did) : undefined;
    return {
      id: conn.id,
      uid: conn.uid,
      device: conn.device?.identity.did ?? null,
      /** The holder's address as the proxy sees it, so a device can tell its own sockets apart. */
      deviceAddress: conn.device ? `${conn.device.socket.remoteAddress}:${conn.device.socket.remotePort}` : null,
      destination: conn.destination,
      protocol: conn.protocol,
      state: conn.state,
      bytesDown: conn.bytesDown,
      bytesUp: conn.bytesUp,
      bytesBuffered: conn.bytesBuffered,
      bytesCached: conn.state === 'closed' ? 0 : conn.bytesCached,
      startedAt: new Date(conn.startedAt).toISOString(),
      ...(presence ? { holderCoa: presence.coa, holderStatus: presence.status } : {}),
    };
  }
}
