import { NetemConfigError } from './errors.js';

/**
 * Address plan of an emulated network. Everything lives in 198.18.0.0/15, the block RFC 2544
 * reserves for benchmarking, so no address can clash with a real network the machine is on.
 * Host link `i` gets its own /24: the router side is `.1`, the host `.2`.
 */
export const NETEM_BLOCK = '198.18.0.0/15';
/** 2 × 256 /24s minus 198.18.0.0/24, kept free for future use. */
export const MAX_LINKS = 511;

export interface LinkAddresses {
  /** e.g. `198.18.3.0/24` */
  subnet: string;
  router: string;
  host: string;
  prefixLength: 24;
}

export function linkAddresses(index: number): LinkAddresses {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_LINKS) {
    throw new NetemConfigError(`link index ${index} outside 0..${MAX_LINKS - 1}`);
  }
  const n = index + 1;
  const second = 18 + (n >> 8);
  const third = n & 0xff;
  const base = `198.${second}.${third}`;
  return { subnet: `${base}.0/24`, router: `${base}.1`, host: `${base}.2`, prefixLength: 24 };
}

/** Parses a dotted IPv4 address into an unsigned 32-bit number; `null` when malformed. */
export function ipv4ToNumber(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const octet = Number(p);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value >>> 0;
}

/** True when `address` lies in 198.18.0.0/15. */
export function inNetemBlock(address: string): boolean {
  const n = ipv4ToNumber(address);
  return n !== null && n >>> 17 === (198 * 256 + 18) >>> 1;
}
