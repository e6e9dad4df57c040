/**
 * The Authorization header: `Basic` with `UID:password` or `DID:token` (RFC 7617), or `Bearer`
 * with the proxies' service key (RFC 6750). Shared by the HTTP routes and the push endpoint.
 */
import { UnauthorizedError } from '../errors.js';
import type { Principal } from '../service/context.js';
import type { AccountService } from '../service/accounts.js';

export type Credentials = { scheme: 'basic'; name: string; secret: string } | { scheme: 'bearer'; token: string };

export function parseAuthorization(header: string | undefined): Credentials | null {
  if (!header) return null;
  const sp = header.indexOf(' ');
  if (sp < 0) return null;
  const scheme = header.slice(0, sp).toLowerCase();
  const value = header.slice(sp + 1).trim();
  if (scheme === 'bearer' && value) return { scheme: 'bearer', token: value };
  if (scheme !== 'basic') return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { scheme: 'basic', name: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** Any principal; a header verified within the cache's TTL is not checked again. */
export async function authenticate(accounts: AccountService, header: string | undefined): Promise<Principal> {
  const c = parseAuthorization(header);
  if (!c) throw new UnauthorizedError('missing or malformed Authorization header');
  const key = accounts.credentials.key(header!);
  const hit = accounts.credentials.get(key);
  if (hit) return hit;
  const p = c.scheme === 'bearer' ? accounts.authenticateService(c.token) : await accounts.authenticateBasic(c.name, c.secret);
  accounts.credentials.remember(key, p);
  return p;
}

/** For agent endpoints: `Basic DID:token` only; anything else is 401 without a password check. */
export async function authenticateDevice(accounts: AccountService, header: string | undefined): Promise<Principal & { kind: 'device' }> {
  const c = parseAuthorization(header);
  if (!c || c.scheme !== 'basic') throw new UnauthorizedError('this endpoint takes a device: Basic DID:token');
  const key = accounts.credentials.key(header!);
  const hit = accounts.credentials.get(key);
  if (hit?.kind === 'device') return hit;
  const p = await accounts.authenticateDeviceOnly(c.name, c.secret);
  accounts.credentials.remember(key, p);
  return p;
}

/** The service key alone (the rate limiter's allow list), through the same cache. */
export function isServiceKey(accounts: AccountService, header: string | undefined): boolean {
  const c = parseAuthorization(header);
  if (c?.scheme !== 'bearer') return false;
  const key = accounts.credentials.key(header!);
  if (accounts.credentials.get(key)?.kind === 'service') return true;
  try {
    accounts.credentials.remember(key, accounts.authenticateService(c.token));
    return true;
  } catch {
    return false;
  }
}

export function basicHeader(name: string, secret: string): string {
  return `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;
}
