/**
 * Verified credentials, remembered briefly so a busy client (a proxy resolving devices, a user's
 * CLI) costs one SHA-256 per request instead of a store read, and a password costs one scrypt
 * per `ttlMs` instead of one per request. Only successes are kept: a wrong secret is checked
 * (and rate-limited) every time. Keys are SHA-256 digests of the whole Authorization header, so
 * no secret sits in the map. A revocation on this process drops the device's entries at once;
 * one on another process (PostgreSQL) takes effect within `ttlMs`, as in the proxy's
 * NameServerAuthenticator.
 */
import { createHash } from 'node:crypto';
import type { Principal } from './context.js';

export interface CredentialCacheOptions {
  /** How long a verified header is trusted. 0 turns the cache off. @default 2000 */
  ttlMs: number;
  /** Most entries; the oldest go first. @default 10000 */
  maxEntries: number;
}

export const DEFAULT_CREDENTIAL_CACHE: CredentialCacheOptions = { ttlMs: 2000, maxEntries: 10_000 };

interface Entry {
  principal: Principal;
  expires: number;
}

export class CredentialCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly opts: CredentialCacheOptions,
    private readonly now: () => number,
  ) {}

  /** The digest to look up and remember under. */
  key(header: string): string {
    return createHash('sha256').update(header).digest('base64');
  }

  get(key: string): Principal | null {
    const e = this.entries.get(key);
    if (!e) return null;
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return null;
    }
    return e.principal;
  }

  remember(key: string, principal: Principal): void {
    if (this.opts.ttlMs <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { principal, expires: this.now() + this.opts.ttlMs });
    // A Map iterates in insertion order, so the first key is the oldest.
    while (this.entries.size > this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** After a revocation: the device's credentials are refused from now on. */
  forgetDevice(did: string): void {
    for (const [k, e] of this.entries) if (e.principal.kind === 'device' && e.principal.did === did) this.entries.delete(k);
  }

  get size(): number {
    return this.entries.size;
  }
}
