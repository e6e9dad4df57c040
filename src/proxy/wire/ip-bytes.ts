import { isIPv4, isIPv6 } from 'node:net';

/**
 * Conversions between IP literals and their network-order bytes, for the SOCKS5 address fields
 * (RFC 1928 section 5). Text output follows RFC 5952 (lowercase, longest zero run compressed).
 */

export function ipv4ToText(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

export function ipv4ToBytes(text: string): Buffer {
  if (!isIPv4(text)) throw new RangeError(`not an IPv4 literal: ${text}`);
  return Buffer.from(text.split('.').map(Number));
}

export function ipv6ToText(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // RFC 5952 section 4.2: compress the longest run of two or more zero groups, the first on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLength).join(':');
  return `${left}::${right}`;
}

export function ipv6ToBytes(text: string): Buffer {
  if (!isIPv6(text)) throw new RangeError(`not an IPv6 literal: ${text}`);
  let hexForm = text;
  // An embedded IPv4 suffix (RFC 4291 section 2.2, form 3) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const suffix = text.slice(lastColon + 1);
  if (suffix.includes('.')) {
    const b = ipv4ToBytes(suffix);
    const hi = (((b[0] ?? 0) << 8) | (b[1] ?? 0)).toString(16);
    const lo = (((b[2] ?? 0) << 8) | (b[3] ?? 0)).toString(16);
    hexForm = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const gap = hexForm.indexOf('::');
  let groups: number[];
  if (gap < 0) {
    groups = parse(hexForm);
  } else {
    const left = parse(hexForm.slice(0, gap));
    const right = parse(hexForm.slice(gap + 2));
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}
