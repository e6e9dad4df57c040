import { isIPv4, isIPv6 } from 'node:net';
import type { Destination } from '../front/types.js';
import { ipv4ToBytes, ipv6ToBytes } from './ip-bytes.js';
import {
  SOCKS5_AUTH_VERSION,
  SOCKS5_VERSION,
  Socks5AddressType,
  type Socks5AuthStatus,
  type Socks5Command,
  type Socks5Reply,
} from './socks5-constants.js';

/*
 * Builders of SOCKS5 messages. The server's three (method selection, auth status, reply) are what
 * the front writes; the client's three (greeting, auth request, request) serve tests and agents
 * that open a tunnel through the proxy.
 */

/**
 * Server's method selection, RFC 1928 section 3.
 *
 *     +----+--------+
 *     |VER | METHOD |
 *     +----+--------+
 *     | 1  |   1    |
 *     +----+--------+
 */
export function buildMethodSelection(method: number): Buffer {
  return Buffer.from([SOCKS5_VERSION, method]);
}

/**
 * Server's answer to the username/password sub-negotiation, RFC 1929 section 2.
 *
 *     +----+--------+
 *     |VER | STATUS |
 *     +----+--------+
 *     | 1  |   1    |
 *     +----+--------+
 */
export function buildAuthStatus(status: Socks5AuthStatus): Buffer {
  return Buffer.from([SOCKS5_AUTH_VERSION, status]);
}

/**
 * Server's reply to a request, RFC 1928 section 6. A bound address that is not an IP literal
 * (unknown, or a failure reply) is sent as IPv4 0.0.0.0 port 0, as most servers do.
 *
 *     +----+-----+-------+------+----------+----------+
 *     |VER | REP |  RSV  | ATYP | BND.ADDR | BND.PORT |
 *     +----+-----+-------+------+----------+----------+
 *     | 1  |  1  | X'00' |  1   | Variable |    2     |
 *     +----+-----+-------+------+----------+----------+
 */
export function buildReply(rep: Socks5Reply, bound?: { address: string; port: number }): Buffer {
  const address = bound?.address ?? '0.0.0.0';
  const port = bound?.port ?? 0;
  let atyp: number = Socks5AddressType.IPV4;
  let addressBytes: Buffer;
  if (isIPv6(address)) {
    atyp = Socks5AddressType.IPV6;
    addressBytes = ipv6ToBytes(address);
  } else {
    addressBytes = isIPv4(address) ? ipv4ToBytes(address) : Buffer.alloc(4);
  }
  const out = Buffer.alloc(4 + addressBytes.length + 2);
  out[0] = SOCKS5_VERSION;
  out[1] = rep;
  out[2] = 0x00;
  out[3] = atyp;
  addressBytes.copy(out, 4);
  out.writeUInt16BE(port & 0xffff, 4 + addressBytes.length);
  return out;
}

/**
 * Client's greeting, RFC 1928 section 3.
 *
 *     +----+----------+----------+
 *     |VER | NMETHODS | METHODS  |
 *     +----+----------+----------+
 *     | 1  |    1     | 1 to 255 |
 *     +----+----------+----------+
 */
export function buildGreeting(methods: readonly number[]): Buffer {
  if (methods.length > 255) throw new RangeError('at most 255 methods');
  return Buffer.from([SOCKS5_VERSION, methods.length, ...methods]);
}

/**
 * Client's username/password request, RFC 1929 section 2.
 *
 *     +----+------+----------+------+----------+
 *     |VER | ULEN |  UNAME   | PLEN |  PASSWD  |
 *     +----+------+----------+------+----------+
 *     | 1  |  1   | 1 to 255 |  1   | 1 to 255 |
 *     +----+------+----------+------+----------+
 */
export function buildAuthRequest(username: string, password: string): Buffer {
  const user = Buffer.from(username, 'utf8');
  const pass = Buffer.from(password, 'utf8');
  if (user.length > 255 || pass.length > 255) throw new RangeError('username and password are at most 255 bytes');
  return Buffer.concat([Buffer.from([SOCKS5_AUTH_VERSION, user.length]), user, Buffer.from([pass.length]), pass]);
}

/**
 * Client's request, RFC 1928 section 4. The address type follows `destination.addressType`.
 *
 *     +----+-----+-------+------+----------+----------+
 *     |VER | CMD |  RSV  | ATYP | DST.ADDR | DST.PORT |
 *     +----+-----+-------+------+----------+----------+
 *     | 1  |  1  | X'00' |  1   | Variable |    2     |
 *     +----+-----+-------+------+----------+----------+
 */
export function buildRequest(command: Socks5Command, destination: Destination): Buffer {
  let address: Buffer;
  let atyp: number;
  switch (destination.addressType) {
    case 'ipv4':
      atyp = Socks5AddressType.IPV4;
      address = ipv4ToBytes(destination.host);
      break;
    case 'ipv6':
      atyp = Socks5AddressType.IPV6;
      address = ipv6ToBytes(destination.host);
      break;
    case 'domain': {
      atyp = Socks5AddressType.DOMAIN;
      const name = Buffer.from(destination.host, 'latin1');
      if (name.length > 255) throw new RangeError('domain names are at most 255 bytes');
      address = Buffer.concat([Buffer.from([name.length]), name]);
      break;
    }
  }
  const port = Buffer.alloc(2);
  port.writeUInt16BE(destination.port);
  return Buffer.concat([Buffer.from([SOCKS5_VERSION, command, 0x00, atyp]), address, port]);
}
