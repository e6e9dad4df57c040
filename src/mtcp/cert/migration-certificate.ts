import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { MtcpError, MtcpErrorCode } from '../errors.js';
import { hmac, macMatches } from './pool-keys.js';

/**
 * Migration certificate (M-TCP paper, "connection migration": the client presents a certificate
 * from the origin server to the new one). Text form: `v1.<payload b64url>.<mac b64url>`, with
 * payload JSON `{cid, iss, iat, exp, n}` and mac = HMAC-SHA256(pool cert key, payload). Bound to
 * one connection id and expiring; the server refreshes it over the connection before it expires.
 */
const payloadSchema = z.object({
  cid: z.string(),
  iss: z.string(),
  iat: z.number(),
  exp: z.number(),
  n: z.string(),
});
export type CertificatePayload = z.infer<typeof payloadSchema>;

export function issueCertificate(key: Buffer, cid: string, issuer: string, ttlMs: number, now = Date.now()): { cert: string; expiresAt: number } {
  const payload: CertificatePayload = { cid, iss: issuer, iat: now, exp: now + ttlMs, n: randomBytes(6).toString('base64url') };
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const mac = hmac(key, 'cert', body).toString('base64url');
  return { cert: `v1.${body}.${mac}`, expiresAt: payload.exp };
}

/** Checks MAC, expiry and binding to `cid`; throws an MtcpError with a stable code otherwise. */
export function verifyCertificate(key: Buffer, cert: string, cid: string, now = Date.now()): CertificatePayload {
  const parts = cert.split('.');
  if (parts.length !== 3 || parts[0] !== 'v1') throw new MtcpError(MtcpErrorCode.CERT_INVALID, 'certificate is malformed');
  const [, body, mac] = parts as [string, string, string];
  if (!macMatches(hmac(key, 'cert', body), mac)) throw new MtcpError(MtcpErrorCode.CERT_INVALID, 'certificate signature does not verify');
  let payload: CertificatePayload;
  try {
    payload = payloadSchema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
  } catch (err) {
    throw new MtcpError(MtcpErrorCode.CERT_INVALID, 'certificate payload is malformed', { cause: err });
  }
  if (payload.cid !== cid) throw new MtcpError(MtcpErrorCode.CERT_WRONG_CONNECTION, 'certificate was issued for another connection');
  if (payload.exp <= now) throw new MtcpError(MtcpErrorCode.CERT_EXPIRED, 'certificate has expired');
  return payload;
}
