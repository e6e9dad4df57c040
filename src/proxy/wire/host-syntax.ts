import { isIPv4, isIPv6 } from 'node:net';

/**
 * Host names a client may ask the proxy to reach. The syntax is the letters-digits-hyphen rule
 * of RFC 1123 section 2.1 widened by `_` (seen in real service names); anything else (spaces,
 * control bytes, `/`, `@`) is refused before it reaches a resolver or a log line.
 */
const HOSTNAME = /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

export function isValidHostname(name: string): boolean {
  return HOSTNAME.test(name);
}

/** How a textual host is named: an IPv4 or IPv6 literal, or a domain name (checked). */
export function classifyHost(host: string): 'ipv4' | 'ipv6' | 'domain' | null {
  if (isIPv4(host)) return 'ipv4';
  if (isIPv6(host)) return 'ipv6';
  return isValidHostname(host) ? 'domain' : null;
}
