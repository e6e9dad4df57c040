import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE_NAME = 'tsmp_ui';

/** A fresh per-agent secret: 128 bits, URL-safe. */
export function newSecret(): string {
  return randomBytes(16).toString('base64url');
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The secret a request presents: `Authorization: Bearer`, the cookie, or `?s=` in the URL. */
export function presentedSecret(req: IncomingMessage, url: URL): { secret: string; via: 'header' | 'cookie' | 'url' } | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { secret: auth.slice(7), via: 'header' };
  const cookie = (req.headers.cookie ?? '')
    .split(';')
    .map((c) => c.trim().split('='))
    .find(([k]) => k === COOKIE_NAME);
  if (cookie?.[1]) return { secret: cookie[1], via: 'cookie' };
  const s = url.searchParams.get('s');
  if (s) return { secret: s, via: 'url' };
  return undefined;
}

export function isAuthorized(req: IncomingMessage, url: URL, secret: string): false | 'header' | 'cookie' | 'url' {
  const p = presentedSecret(req, url);
  return p && equal(p.secret, secret) ? p.via : false;
}

/**
 * DNS rebinding defence: a page from evil.example that rebinds its name to 127.0.0.1 sends
 * `Host: evil.example`, so only loopback names are accepted.
 */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.split(':')[0];
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name ?? '');
}

/** A state-changing request must come from our own page (or a non-browser client with no Origin). */
export function isSameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
