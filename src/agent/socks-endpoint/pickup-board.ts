import type { Duplex } from 'node:stream';
import { TimeoutError } from '../../common/errors.js';
import { HandlerFailedError } from '../errors.js';
import type { StreamPickup } from '../handlers/stream-pickup.js';

interface Offer {
  destination: string;
  stream: Duplex;
  taken: () => void;
}

/** Resumed streams waiting for a legacy app to CONNECT to their destination through the endpoint. */
export class PickupBoard implements StreamPickup {
  readonly #offers: Offer[] = [];
  #endpoint: { host: string; port: number } | undefined;

  setEndpoint(address: { host: string; port: number } | undefined): void {
    this.#endpoint = address;
  }

  endpoint(): { host: string; port: number } | undefined {
    return this.#endpoint;
  }

  offer(destination: string, stream: Duplex, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const offer: Offer = { destination, stream, taken: () => finish() };
      const timer = setTimeout(() => finish(new TimeoutError(`waiting for an app to connect to ${destination}`, timeoutMs)), timeoutMs);
      const onAbort = () => finish(new HandlerFailedError('pickup aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#offers.push(offer);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const i = this.#offers.indexOf(offer);
        if (i >= 0) this.#offers.splice(i, 1);
        if (err) reject(err);
        else resolve();
      };
    });
  }

  /**
   * The stream waiting for `host:port`, if any. An app that resolved the name itself asks for an
   * address instead; then the only offer on that port is taken.
   */
  take(host: string, port: number): Duplex | undefined {
    const wanted = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    let offer = this.#offers.find((o) => o.destination === wanted);
    if (!offer) {
      const samePort = this.#offers.filter((o) => o.destination.endsWith(`:${port}`));
      if (samePort.length === 1) offer = samePort[0];
    }
    if (!offer) return undefined;
    offer.taken();
    return offer.stream;
  }

  get pending(): number {
    return this.#offers.length;
  }
}
