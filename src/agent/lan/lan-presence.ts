import { createHash, randomBytes } from 'node:crypto';
import { Bonjour, type Service } from 'bonjour-service';
import { silentLogger, type Logger } from '../../common/logger.js';

/** DNS-SD service type (RFC 6763): `_tsmp._tcp.local`. */
export const SERVICE_TYPE = 'tsmp';

/**
 * A user's devices find each other by a hash of the uid in the TXT record rather than the uid
 * itself, so the LAN does not learn e-mail addresses (only that two devices share an owner).
 */
export function uidTag(uid: string): string {
  return createHash('sha256').update(`tsmp-lan:${uid}`).digest('hex').slice(0, 16);
}

export interface LanPeer {
  /** Instance name, e.g. `laptop-3f2a`. */
  instance: string;
  device: string;
  state: 'paired' | 'unpaired';
  /** Present for paired devices: the owner's uid tag. */
  uid?: string;
  addresses: string[];
  port: number;
}

export interface LanPresenceOptions {
  device: string;
  state: 'paired' | 'unpaired';
  uid?: string;
  /** The pairing listener's port (advertised in SRV). */
  port: number;
  /** Restricts mDNS to one interface address (multicast-dns `interface`). */
  interface?: string;
  logger?: Logger;
}

/**
 * Advertises this device as `_tsmp._tcp` over mDNS/DNS-SD (RFC 6762/6763, paper V.B.2) and
 * browses for others: the user's own devices (same uid tag) and devices waiting to be paired.
 */
export class LanPresence {
  readonly #bonjour: Bonjour;
  readonly #peers = new Map<string, LanPeer>();
  readonly #o: LanPresenceOptions;
  readonly #logger: Logger;
  readonly #listeners = new Set<(peer: LanPeer) => void>();
  readonly #instance: string;
  /** Called after every change of the peers seen. */
  onChange: (() => void) | undefined;

  constructor(options: LanPresenceOptions) {
    this.#o = options;
    this.#logger = options.logger ?? silentLogger;
    // The options go to multicast-dns, though typed as a service config. With `interface` alone it
    // would bind to that unicast address, and Linux delivers no multicast to such a socket.
    this.#bonjour = new Bonjour((options.interface ? { interface: options.interface, bind: '0.0.0.0' } : {}) as never, (err: Error) => this.#logger.warn({ err: err.message }, 'mDNS error'));
    this.#instance = `${options.device}-${randomBytes(2).toString('hex')}`;
    this.#bonjour.publish({
      name: this.#instance,
      type: SERVICE_TYPE,
      port: options.port,
      txt: { v: '1', d: options.device, s: options.state, ...(options.uid ? { u: uidTag(options.uid) } : {}) },
      disableIPv6: true,
    });
    const browser = this.#bonjour.find({ type: SERVICE_TYPE });
    browser.on('up', (s: Service) => this.#up(s));
    browser.on('down', (s: Service) => {
      this.#peers.delete(s.name);
      this.onChange?.();
    });
  }

  /** Other tsmp devices seen on the LAN (not this one). */
  peers(): LanPeer[] {
    return [...this.#peers.values()];
  }

  /** The user's other devices: paired, with our uid tag. */
  ownDevices(): LanPeer[] {
    const tag = this.#o.uid ? uidTag(this.#o.uid) : undefined;
    return this.peers().filter((p) => p.state === 'paired' && tag !== undefined && p.uid === tag);
  }

  /** Waits for a peer matching `predicate`, up to `timeoutMs`. */
  waitFor(predicate: (peer: LanPeer) => boolean, timeoutMs: number): Promise<LanPeer | undefined> {
    const found = this.peers().find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const listener = (peer: LanPeer) => {
        if (predicate(peer)) done(peer);
      };
      const done = (peer: LanPeer | undefined) => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(peer);
      };
      this.#listeners.add(listener);
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#bonjour.unpublishAll(() => resolve()));
    await new Promise<void>((resolve) => this.#bonjour.destroy(() => resolve()));
  }

  #up(s: Service): void {
    const txt = (s.txt ?? {}) as Record<string, string>;
    if (txt.v !== '1' || !txt.d || s.name === this.#instance) return;
    const peer: LanPeer = {
      instance: s.name,
      device: txt.d,
      state: txt.s === 'unpaired' ? 'unpaired' : 'paired',
      ...(txt.u ? { uid: txt.u } : {}),
      addresses: (s.addresses ?? []).filter((a) => !a.includes(':')),
      port: s.port,
    };
    if (!peer.addresses.length && s.referer?.address) peer.addresses.push(s.referer.address);
    this.#peers.set(s.name, peer);
    this.#logger.info({ peer }, 'tsmp device on the LAN');
    for (const l of this.#listeners) l(peer);
    this.onChange?.();
  }
}
