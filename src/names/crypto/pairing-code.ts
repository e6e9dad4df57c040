/**
 * Pairing codes shown on an existing device so a new one can join (issue 3, "Introductions").
 * Format: 8 symbols of Crockford's base32 (40 bits), shown as `XXXX-XXXX`. Crockford's alphabet
 * leaves out I, L, O and U, and reading maps the look-alikes back, so a code read aloud or typed
 * from a phone screen survives. Single use, valid for 5 minutes by default.
 */
import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export const PAIRING_CODE_TTL_MS = 5 * 60_000;

export function newPairingCode(): string {
  const bytes = randomBytes(5);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 7; i >= 0; i--) out += ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)];
  return `${out.slice(0, 4)}-${out.slice(4)}`;
}

/** Upper-cases, drops dashes and spaces, and maps O→0, I/L→1; null when it is not a code. */
export function normalizePairingCode(text: string): string | null {
  const s = text.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (s.length !== 8) return null;
  for (const ch of s) if (!ALPHABET.includes(ch)) return null;
  return s;
}

/** The stored form: bound to the user, so a code only ever adds a device to that user. */
export function hashPairingCode(uid: string, normalized: string): string {
  return createHash('sha256').update(`${uid}\n${normalized}`).digest('base64url');
}
