/** SOCKS protocol version 5 (RFC 1928 section 3). */
export const SOCKS_VERSION = 0x05;
/** Version of the username/password subnegotiation (RFC 1929 section 2). */
export const USERPASS_VERSION = 0x01;

/** Authentication methods (RFC 1928 section 3). */
export const METHOD = {
  NO_AUTH: 0x00,
  USERNAME_PASSWORD: 0x02,
  NO_ACCEPTABLE: 0xff,
} as const;

export const COMMAND = { CONNECT: 0x01, BIND: 0x02, UDP_ASSOCIATE: 0x03 } as const;

export const ATYP = { IPV4: 0x01, DOMAIN: 0x03, IPV6: 0x04 } as const;

/** Reply field REP (RFC 1928 section 6). */
export const REPLY = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;
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

/** The reserved domain an attach by ticket connects to (docs/CONTRACTS.md; RFC 2606 `.invalid`). */
export const TICKET_SUFFIX = '.ticket.tsmp.invalid';

export function ticketHost(ticket: string): string {
  return `${ticket}${TICKET_SUFFIX}`;
}
