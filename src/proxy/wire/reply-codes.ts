import type { ConnectFailure } from '../front/types.js';
import { Socks5Reply } from './socks5-constants.js';

/**
 * One table from why a CONNECT failed to what each protocol says about it:
 * - `socks5`: REP of RFC 1928 section 6. SOCKS5 has no code for DNS failure or timeout; like Tor
 *   (`socks5_reply` in its connection_edge.c) a failed resolution is "host unreachable" and a
 *   timeout is "TTL expired".
 * - `http`: the status of RFC 9110 section 15 (502 for a destination that answered badly or not
 *   at all, 504 for a timeout).
 * - `proxyStatus`: the error type of RFC 9209 section 2.3, sent in a `Proxy-Status` header so that
 *   an HTTP client can still tell a DNS failure from a refusal.
 */
export const CONNECT_FAILURE_REPLIES = {
  general: { socks5: Socks5Reply.GENERAL_FAILURE, http: 502, proxyStatus: 'proxy_internal_error' },
  'not-allowed': { socks5: Socks5Reply.NOT_ALLOWED, http: 403, proxyStatus: 'destination_ip_prohibited' },
  'network-unreachable': { socks5: Socks5Reply.NETWORK_UNREACHABLE, http: 502, proxyStatus: 'destination_ip_unroutable' },
  'host-unreachable': { socks5: Socks5Reply.HOST_UNREACHABLE, http: 502, proxyStatus: 'destination_unavailable' },
  refused: { socks5: Socks5Reply.CONNECTION_REFUSED, http: 502, proxyStatus: 'connection_refused' },
  'ttl-expired': { socks5: Socks5Reply.TTL_EXPIRED, http: 504, proxyStatus: 'connection_timeout' },
  timeout: { socks5: Socks5Reply.TTL_EXPIRED, http: 504, proxyStatus: 'connection_timeout' },
  dns: { socks5: Socks5Reply.HOST_UNREACHABLE, http: 502, proxyStatus: 'dns_error' },
  'command-not-supported': { socks5: Socks5Reply.COMMAND_NOT_SUPPORTED, http: 405, proxyStatus: 'http_request_error' },
  'address-type-not-supported': {
    socks5: Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED,
    http: 400,
    proxyStatus: 'http_request_error',
  },
  unavailable: { socks5: Socks5Reply.GENERAL_FAILURE, http: 503, proxyStatus: 'proxy_internal_error' },
} as const satisfies Record<ConnectFailure, { socks5: Socks5Reply; http: number; proxyStatus: string }>;

export const CONNECT_FAILURES = Object.keys(CONNECT_FAILURE_REPLIES) as ConnectFailure[];

export function isConnectFailure(value: unknown): value is ConnectFailure {
  return typeof value === 'string' && Object.hasOwn(CONNECT_FAILURE_REPLIES, value);
}

export function socks5ReplyFor(failure: ConnectFailure): Socks5Reply {
  return CONNECT_FAILURE_REPLIES[failure].socks5;
}

export function httpStatusFor(failure: ConnectFailure): number {
  return CONNECT_FAILURE_REPLIES[failure].http;
}

/**
 * Node system error codes (errno names from libuv, and getaddrinfo's EAI_* through `dns.lookup`)
 * to a failure. Matched on `err.code` only, never on the message.
 */
const SYSTEM_ERROR_FAILURES: Readonly<Record<string, ConnectFailure>> = {
  ECONNREFUSED: 'refused',
  ENETUNREACH: 'network-unreachable',
  ENETDOWN: 'network-unreachable',
  EADDRNOTAVAIL: 'network-unreachable',
  EHOSTUNREACH: 'host-unreachable',
  EHOSTDOWN: 'host-unreachable',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_FAIL: 'dns',
  EAI_NONAME: 'dns',
  EAI_NODATA: 'dns',
  ENODATA: 'dns',
  ETIMEDOUT: 'timeout',
  ERR_DIAL_TIMEOUT: 'timeout',
  EACCES: 'not-allowed',
  EPERM: 'not-allowed',
};

/**
 * Classifies a dial error. An error that already carries a `failure` (a `DialError`) keeps it;
 * an AggregateError from happy eyeballs (`autoSelectFamily`) is classified by its attempts, the
 * most specific one winning, so "refused on ::1, refused on 127.0.0.1" is still "refused".
 */
export function classifyDialError(err: unknown): ConnectFailure {
  if (typeof err !== 'object' || err === null) return 'general';
  const failure = (err as { failure?: unknown }).failure;
  if (isConnectFailure(failure)) return failure;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && Object.hasOwn(SYSTEM_ERROR_FAILURES, code)) {
    return SYSTEM_ERROR_FAILURES[code] ?? 'general';
  }
  if (err instanceof AggregateError) {
    const inner = err.errors.map(classifyDialError).filter((f) => f !== 'general');
    return inner[0] ?? 'general';
  }
  return 'general';
}
