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

export async function authenticate(accounts: AccountService, header: string | undefined): Promise<Principal> {
  const c = parseAuthorization(header);
  if (!c) throw new UnauthorizedError('missing or malformed Authorization header');
  if (c.scheme === 'bearer') return accounts.authenticateService(c.token);
  return accounts.authenticateBasic(c.name, c.secret);
}

/** For agent endpoints: `Basic DID:token` only; anything else is 401 without a password check. */
export async function authenticateDevice(accounts: AccountService, header: string | undefined): Promise<Principal & { kind: 'device' }> {
  const c = parseAuthorization(header);
  if (!c || c.scheme !== 'basic') throw new UnauthorizedError('this endpoint takes a device: Basic DID:token');
  return accounts.authenticateDeviceOnly(c.name, c.secret);
}

export function basicHeader(name: string, secret: string): string {
  return `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;
}
