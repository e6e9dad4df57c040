import { randomBytes } from 'node:crypto';
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

  /** A short id (8 hex digits) that is easy to type in `tsmp migrate <id>`. */
  newId(): string {
    for (;;) {
      const id = (this.prefix + randomBytes(4).toString('hex')).slice(0, 8);
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
