import { Socks5AddressType, SOCKS5_VERSION } from './socks5-constants.js';
import { Socks5DecodeError } from './socks5-decoder.js';
import { ipv4ToText, ipv6ToText } from './ip-bytes.js';

/**
 * The client's side of the handshake: decoding the server's reply to a request (RFC 1928
 * section 6), for agents and tests that open tunnels through the proxy. Pure: returns the reply
 * and its length, or `null` while `bytes` holds only part of it.
 */
export interface Socks5ReplyMessage {
  rep: number;
  bound: { address: string; port: number };
  /** Bytes the reply occupies at the start of the input. */
  length: number;
}

export function decodeSocks5Reply(bytes: Uint8Array): Socks5ReplyMessage | null {
  if (bytes.length < 1) return null;
  if (bytes[0] !== SOCKS5_VERSION) throw new Socks5DecodeError('ERR_SOCKS5_VERSION', `reply version ${bytes[0]}`);
  if (bytes.length < 5) return null;
  const atyp = bytes[3];
  let start = 4;
  let addressLength: number;
  if (atyp === Socks5AddressType.IPV4) addressLength = 4;
  else if (atyp === Socks5AddressType.IPV6) addressLength = 16;
  else if (atyp === Socks5AddressType.DOMAIN) {
    addressLength = bytes[4] ?? 0;
    start = 5;
  } else throw new Socks5DecodeError('ERR_SOCKS5_ADDRESS_TYPE', `reply address type ${atyp}`);
  const length = start + addressLength + 2;
  if (bytes.length < length) return null;
  const raw = bytes.subarray(start, start + addressLength);
  const address =
    atyp === Socks5AddressType.IPV4 ? ipv4ToText(raw) : atyp === Socks5AddressType.IPV6 ? ipv6ToText(raw) : Buffer.from(raw).toString('latin1');
  const port = ((bytes[start + addressLength] ?? 0) << 8) | (bytes[start + addressLength + 1] ?? 0);
  return { rep: bytes[1] ?? 0, bound: { address, port }, length };
}
