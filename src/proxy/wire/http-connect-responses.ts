import type { ConnectFailure } from '../front/types.js';
import { CONNECT_FAILURE_REPLIES } from './reply-codes.js';

/** Realm of the Basic challenge (RFC 7617 section 2). */
export const PROXY_REALM = 'tsmp';

/** Reason phrases of RFC 9110 section 15 for the statuses the front sends. */
const REASONS: Readonly<Record<number, string>> = {
  200: 'Connection Established',
  400: 'Bad Request',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * The tunnel is open (RFC 9110 section 9.3.6). No header: a 2xx to CONNECT has no content and
 * the bytes after the blank line are the destination's.
 *
 *     HTTP/1.1 200 Connection Established CRLF
 *     CRLF
 */
export function buildConnectEstablished(): Buffer {
  return Buffer.from('HTTP/1.1 200 Connection Established\r\n\r\n', 'latin1');
}

/**
 * A final error response, after which the front closes the connection:
 *
 *     HTTP/1.1 <status> <reason> CRLF
 *     *( header CRLF )          Connection: close, Content-Length: 0, per-status headers
 *     CRLF
 */
export function buildHttpError(status: number, extraHeaders: Readonly<Record<string, string>> = {}): Buffer {
  const headers: Record<string, string> = { ...extraHeaders, Connection: 'close', 'Content-Length': '0' };
  // RFC 9110 section 15.5.6: a 405 lists the allowed methods; 15.5.8: a 407 carries the challenge.
  if (status === 405) headers['Allow'] = 'CONNECT';
  if (status === 407) headers['Proxy-Authenticate'] = `Basic realm="${PROXY_REALM}"`;
  const lines = [`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** 407 with `Proxy-Authenticate: Basic realm="tsmp"`: missing or wrong credentials. */
export function buildProxyAuthRequired(): Buffer {
  return buildHttpError(407);
}

/** The response for a failed CONNECT, with a `Proxy-Status` (RFC 9209) naming the cause. */
export function buildConnectFailure(failure: ConnectFailure): Buffer {
  const entry = CONNECT_FAILURE_REPLIES[failure];
  return buildHttpError(entry.http, { 'Proxy-Status': `${PROXY_REALM}; error=${entry.proxyStatus}` });
}
