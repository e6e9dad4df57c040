import type { Logger } from '../../common/logger.js';
import type { ConnectionRegistry } from './connection-registry.js';

/** A subscription to devices' presence, as the name server's push channel offers it. */
export interface PresenceFeed {
  subscribe(dids: string[]): void;
  unsubscribe(dids: string[]): void;
  close(): void;
}

export interface PresenceEvent {
  did: string;
  status: string;
  coa: string | null;
}

/**
 * Paper section V.B.4: the proxy subscribes to the devices whose connections it holds and is
 * told when their care-of address or status changes. It keeps the last word per device, shown
 * with each connection (`holderCoa`, `holderStatus`), and re-checks the subscription set every
 * few seconds, so a device is watched while it holds a connection here and not after.
 */
export class HolderWatch {
  private readonly watched = new Set<string>();
  readonly presence = new Map<string, PresenceEvent>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly connections: ConnectionRegistry,
    private readonly feed: PresenceFeed,
    private readonly log: Logger,
    everyMs = 2_000,
  ) {
    this.timer = setInterval(() => this.refresh(), everyMs);
    this.timer.unref();
  }

  onEvent(ev: PresenceEvent): void {
    const before = this.presence.get(ev.did);
    this.presence.set(ev.did, ev);
    if (before && (before.coa !== ev.coa || before.status !== ev.status)) {
      this.log.info({ did: ev.did, coa: ev.coa, status: ev.status }, 'holder moved');
    }
  }

  refresh(): void {
    const holders = new Set<string>();
    for (const c of this.connections.all()) if (c.device) holders.add(c.device.identity.did);
    const added = [...holders].filter((d) => !this.watched.has(d));
    const gone = [...this.watched].filter((d) => !holders.has(d));
    if (added.length) this.feed.subscribe(added);
    if (gone.length) this.feed.unsubscribe(gone);
    for (const d of added) this.watched.add(d);
    for (const d of gone) {
      this.watched.delete(d);
      this.presence.delete(d);
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.feed.close();
  }
}
