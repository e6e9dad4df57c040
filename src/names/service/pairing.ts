/**
 * Own-device pairing (issue 3, "Introductions"): an existing device asks for a code and shows it;
 * the new device sends the code with its UID and chosen name and gets its DID and token. This is
 * also how LAN rendezvous completes (the agent finds the peer over mDNS and passes the code).
 */
import { BadRequestError, ConflictError, UnauthorizedError } from '../errors.js';
import { hashPairingCode, newPairingCode, normalizePairingCode } from '../crypto/pairing-code.js';
import { hashToken, newToken } from '../crypto/secrets.js';
import type { Principal, ServiceContext } from './context.js';

export class PairingService {
  constructor(private readonly ctx: ServiceContext) {}

  async create(p: Principal & { kind: 'device' }): Promise<{ code: string; expiresAt: string }> {
    const code = newPairingCode();
    const expiresAt = this.ctx.now() + this.ctx.settings.pairingTtlMs;
    await this.ctx.store.createPairing({ codeHash: hashPairingCode(p.uid, normalizePairingCode(code)!), uid: p.uid, createdBy: p.did, expiresAt });
    return { code, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** A wrong, used or expired code, or an unknown user, are all the same 401. */
  async claim(uid: string, code: string, name: string): Promise<{ did: string; token: string }> {
    const normalized = normalizePairingCode(code);
    if (!normalized) throw new BadRequestError('a pairing code is 8 letters and digits, e.g. 7K3Q-9ZXM');
    const did = `${name}.${uid}`;
    const token = newToken();
    const res = await this.ctx.store.claimPairing(hashPairingCode(uid, normalized), { did, uid, name, tokenHash: hashToken(token), createdAt: this.ctx.now() });
    if (res.result !== 'ok') {
      if (res.result === 'taken') throw new ConflictError(`device ${did} already exists`);
      throw new UnauthorizedError('invalid or expired pairing code');
    }
    await this.ctx.events.deliver(res.createdBy, { type: 'paired', did });
    return { did, token };
  }
}
