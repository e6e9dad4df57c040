import {
  SOCKS5_AUTH_VERSION,
  SOCKS5_VERSION,
  Socks5AddressType,
  Socks5Command,
  Socks5Method,
  Socks5Reply,
} from '../../proxy/wire/socks5-constants.js';

/**
 * The SOCKS5 codes the agent's client side uses: the proxy's own table (RFC 1928 sections 3–6,
 * RFC 1929 section 2) under the short names the client code reads best with.
 */
export const SOCKS_VERSION = SOCKS5_VERSION;
export const USERPASS_VERSION = SOCKS5_AUTH_VERSION;
export const METHOD = Socks5Method;
export const COMMAND = Socks5Command;
export const ATYP = Socks5AddressType;
export const REPLY = Socks5Reply;
export type ReplyCode = (typeof REPLY)[keyof typeof REPLY];

const REPLY_TEXT: Record<number, string> = {
  0x00: 'succeeded',
  0x01: 'general SOCKS server failure',
  0x02: 'connection not allowed by ruleset',
  0x03: 'network unreachable',
  0x04: 'host unreachable',
  0x05: 'connection refused',
  0x06: 'TTL expired',
  0x07: 'command not supported',
  0x08: 'address type not supported',
};

export function replyText(code: number): string {
  return REPLY_TEXT[code] ?? `unassigned reply 0x${code.toString(16).padStart(2, '0')}`;
}

/** The reserved domain an attach by ticket connects to: the proxy's own definition (docs/CONTRACTS.md). */
export { ticketDestination as ticketHost } from '../../proxy/migration/ticket-destination.js';
