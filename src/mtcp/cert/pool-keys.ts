import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Keys derived from the pool's shared secret, one per purpose, so that a MAC made for one purpose
 * (say a snapshot seal) can never pass as another (a certificate). HMAC-SHA256 as a PRF, in the
 * manner of HKDF-Expand (RFC 5869) with a purpose label.
 */
export interface PoolKeys {
  cert: Buffer;
  snapshot: Buffer;
  peer: Buffer;
}

export function derivePoolKeys(secret: string): PoolKeys {
  const derive = (label: string) => createHmac('sha256', secret).update(`tsmp/mtcp/v1/${label}`).digest();
  return { cert: derive('certificate'), snapshot: derive('snapshot'), peer: derive('peer') };
}

export function hmac(key: Buffer, ...parts: string[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(`${p.length}:${p};`); // length-prefixed so parts cannot be shifted
  return h.digest();
}

/** Constant-time comparison of a MAC against its base64url text. */
export function macMatches(expected: Buffer, givenB64url: string): boolean {
  const given = Buffer.from(givenB64url, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
