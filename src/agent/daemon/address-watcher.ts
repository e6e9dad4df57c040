import { EventEmitter } from 'node:events';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export interface AddressWatcherOptions {
  /** How often the interfaces are read. @default 1000 */
  intervalMs?: number;
  /** A fixed care-of address (`--coa`); the watcher then only reports it. */
  fixed?: string;
  /** Reads the interfaces; injectable for tests. */
  read?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/**
 * Watches the device's addresses and reports a new care-of address at once (paper V.B.4: a
 * device that moves between networks updates the name server so the proxy can reach it).
 * Node has no address-change event, so the interfaces are read every `intervalMs`; one read is
 * a cheap syscall, and a second's delay is far under a heartbeat interval.
 */
export class AddressWatcher extends EventEmitter<{ change: [coa: string | null, previous: string | null] }> {
  #coa: string | null;
  #timer: NodeJS.Timeout | undefined;
  readonly #o: AddressWatcherOptions;

  constructor(options: AddressWatcherOptions = {}) {
    super();
    this.#o = options;
    this.#coa = this.#read();
  }

  get coa(): string | null {
    return this.#coa;
  }

  start(): void {
    if (this.#timer || this.#o.fixed) return;
    this.#timer = setInterval(() => this.check(), this.#o.intervalMs ?? 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads the interfaces now; emits `change` when the care-of address moved. */
  check(): void {
    const next = this.#read();
    if (next === this.#coa) return;
    const previous = this.#coa;
    this.#coa = next;
    this.emit('change', next, previous);
  }

  #read(): string | null {
    if (this.#o.fixed) return this.#o.fixed;
    return pickCareOfAddress((this.#o.read ?? networkInterfaces)());
  }
}

/**
 * The address other parties would see: the first global IPv4 address, else the first global
 * IPv6 one; loopback and link-local addresses are skipped. Interfaces are taken in name order so
 * the choice is stable between reads.
 */
export function pickCareOfAddress(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string | null {
  const all = Object.keys(interfaces)
    .sort()
    .flatMap((name) => interfaces[name] ?? []);
  const usable = all.filter((a) => !a.internal && !(a.family === 'IPv6' && /^fe80:/i.test(a.address)) && !a.address.startsWith('169.254.'));
  return usable.find((a) => a.family === 'IPv4')?.address ?? usable[0]?.address ?? null;
}
