/**
 * SOCKS version 5 code points: RFC 1928 (the protocol) and RFC 1929 (username/password
 * authentication). Codes are `as const` objects with a derived type, so a switch over them is
 * checked by the compiler.
 */

/** VER field of every RFC 1928 message. */
export const SOCKS5_VERSION = 0x05;

/** VER field of the RFC 1929 sub-negotiation (not the SOCKS version). */
export const SOCKS5_AUTH_VERSION = 0x01;

/** RFC 1928 section 3: METHOD values. */
export const Socks5Method = {
  NO_AUTH: 0x00,
  GSSAPI: 0x01,
  USERNAME_PASSWORD: 0x02,
  NO_ACCEPTABLE: 0xff,
} as const;
export type Socks5Method = (typeof Socks5Method)[keyof typeof Socks5Method];

/** RFC 1928 section 4: CMD values. */
export const Socks5Command = {
  CONNECT: 0x01,
  BIND: 0x02,
  UDP_ASSOCIATE: 0x03,
} as const;
export type Socks5Command = (typeof Socks5Command)[keyof typeof Socks5Command];

/** RFC 1928 section 5: ATYP values. */
export const Socks5AddressType = {
  IPV4: 0x01,
  DOMAIN: 0x03,
  IPV6: 0x04,
} as const;
export type Socks5AddressType = (typeof Socks5AddressType)[keyof typeof Socks5AddressType];

/** RFC 1928 section 6: REP values. */
export const Socks5Reply = {
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
export type Socks5Reply = (typeof Socks5Reply)[keyof typeof Socks5Reply];

/** RFC 1929 section 2: STATUS, `0x00` is success and any other value is failure. */
export const Socks5AuthStatus = {
  SUCCESS: 0x00,
  FAILURE: 0x01,
} as const;
export type Socks5AuthStatus = (typeof Socks5AuthStatus)[keyof typeof Socks5AuthStatus];

/**
 * Largest message of each phase, from the field widths of the RFCs. The decoder never waits for
 * more than this, so a handshake needs no more memory than this plus one read of pipelined data.
 */
export const SOCKS5_MAX_GREETING_BYTES = 2 + 255;
export const SOCKS5_MAX_AUTH_BYTES = 3 + 255 + 255;
export const SOCKS5_MAX_REQUEST_BYTES = 4 + 1 + 255 + 2;
