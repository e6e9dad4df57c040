import { isIPv4, isIPv6 } from 'node:net';
import { ATYP } from './socks5-codes.js';

/**
 * DST.ADDR / BND.ADDR as RFC 1928 section 5 encodes them: ATYP, then 4 bytes (IPv4), 16 bytes
 * (IPv6) or a length-prefixed name, then the port in network order.
 */
export function encodeAddress(host: string, port: number): Buffer {
  let addr: Buffer;
  if (isIPv4(host)) addr = Buffer.from([ATYP.IPV4, ...host.split('.').map(Number)]);
  else if (isIPv6(host)) addr = Buffer.concat([Buffer.from([ATYP.IPV6]), ipv6Bytes(host)]);
  else {
    const name = Buffer.from(host, 'utf8');
    if (name.length === 0 || name.length > 255) throw new RangeError(`host name of ${name.length} bytes cannot be sent in SOCKS5`);
    addr = Buffer.concat([Buffer.from([ATYP.DOMAIN, name.length]), name]);
  }
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  return Buffer.concat([addr, portBytes]);
}

export type DecodedAddress =
  | { ok: true; host: string; port: number; atyp: number; length: number }
  | { ok: false; need: 'more' }
  | { ok: false; need: 'bad-atyp'; atyp: number };

/** Decodes an address at `offset`; `need: 'more'` when the buffer ends before it does. */
export function decodeAddress(buf: Buffer, offset: number): DecodedAddress {
  if (buf.length < offset + 1) return { ok: false, need: 'more' };
  const atyp = buf[offset]!;
  let hostLen: number;
  let start = offset + 1;
  if (atyp === ATYP.IPV4) hostLen = 4;
  else if (atyp === ATYP.IPV6) hostLen = 16;
  else if (atyp === ATYP.DOMAIN) {
    if (buf.length < offset + 2) return { ok: false, need: 'more' };
    hostLen = buf[offset + 1]!;
    start = offset + 2;
  } else return { ok: false, need: 'bad-atyp', atyp };
  const end = start + hostLen + 2;
  if (buf.length < end) return { ok: false, need: 'more' };
  const raw = buf.subarray(start, start + hostLen);
  let host: string;
  if (atyp === ATYP.IPV4) host = [...raw].join('.');
  else if (atyp === ATYP.IPV6) host = formatIpv6(raw);
  else host = raw.toString('utf8');
  return { ok: true, host, port: buf.readUInt16BE(start + hostLen), atyp, length: end - offset };
}

function ipv6Bytes(host: string): Buffer {
  // Expand `::` and an embedded IPv4 tail into eight 16-bit groups.
  let text = host;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const p = v4[1]!.split('.').map(Number);
    text = text.slice(0, -v4[1]!.length) + `${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}

function formatIpv6(raw: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(raw.readUInt16BE(i).toString(16));
  return groups.join(':');
}
