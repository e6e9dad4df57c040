/**
 * `tsmp proxy --nameserver URL [--ca FILE]`: device credentials checked against the name server
 * (issue 3, "Device authentication for the proxy"). Answers are cached briefly so a busy proxy
 * does not ask for every connection, and so a revoked device is refused within `cacheTtlMs`.
 * With the service key (`$TSMP_SERVICE_KEY`) the proxy also resolves devices, pushes the
 * Migration-To-Request to agents and watches CoA changes through `client`.
 */
import { createHash } from 'node:crypto';
import { NameServerClient } from '../../names/client/name-server-client.js';
import { NameServerHttpError } from '../../names/errors.js';
import { makeDid, parseDid, type DeviceAuthenticator, type DeviceIdentity } from './device-authenticator.js';

export interface NameServerAuthenticatorOptions {
  url: string;
  ca?: string | Buffer;
  /** @default $TSMP_SERVICE_KEY */
  serviceKey?: string;
  /** How long an answer (yes or no) is reused. @default 2000 */
  cacheTtlMs?: number;
  /** Most cached answers; the oldest go first. @default 10000 */
  maxCacheEntries?: number;
  /** @default 5000 */
  timeoutMs?: number;
}

interface CacheEntry {
  identity: DeviceIdentity | null;
  expires: number;
}

export class NameServerAuthenticator implements DeviceAuthenticator {
  /** A client with the service key when one was given, for push and CoA subscriptions. */
  readonly client: NameServerClient;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly ttl: number;
  private readonly maxEntries: number;
  /** Whether the proxy holds the service key: push and device lookups need it. */
  readonly hasServiceKey: boolean;

  constructor(opts: NameServerAuthenticatorOptions) {
    const serviceKey = opts.serviceKey ?? process.env.TSMP_SERVICE_KEY;
    this.hasServiceKey = Boolean(serviceKey);
    this.client = new NameServerClient({ url: opts.url, ca: opts.ca, timeoutMs: opts.timeoutMs ?? 5000, auth: serviceKey ? { serviceKey } : undefined });
    this.ttl = opts.cacheTtlMs ?? 2000;
    this.maxEntries = opts.maxCacheEntries ?? 10_000;
  }

  static fromUrl(url: string, opts: Omit<NameServerAuthenticatorOptions, 'url'> = {}): NameServerAuthenticator {
    return new NameServerAuthenticator({ ...opts, url });
  }

  async authenticate(did: string, token: string): Promise<DeviceIdentity | null> {
    if (!parseDid(did)) return null;
    const key = `${did}\n${createHash('sha256').update(token).digest('base64')}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return hit.identity;
    const identity = await this.client.verifyDevice(did, token);
    this.remember(key, { identity, expires: now + this.ttl });
    return identity;
  }

  /**
   * With the service key the name server says whether the device exists (and is not revoked).
   * Without it only the form is checked; a migration to a device that does not exist then
   * times out and rolls back.
   */
  async resolveDevice(uid: string, nameOrDid: string): Promise<DeviceIdentity | null> {
    const did = nameOrDid.includes('@') ? nameOrDid : makeDid(nameOrDid, uid);
    const parts = parseDid(did);
    if (!parts || parts.uid !== uid) return null;
    if (!this.hasServiceKey) return { uid, device: parts.device, did };
    try {
      await this.client.resolve(did);
      return { uid, device: parts.device, did };
    } catch (err) {
      if (err instanceof NameServerHttpError && (err.status === 404 || err.status === 400)) return null;
      throw err;
    }
  }

  private remember(key: string, entry: CacheEntry): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
