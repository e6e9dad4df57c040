/**
 * Users, devices and credentials (issue 3, "Namespace model", "Bad input and security").
 */
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.js';
import { splitDid, type DeviceRecord } from '../model.js';
import { dummyPasswordHash, hashPassword, hashToken, newToken, secretEquals, tokenMatches, verifyPassword } from '../crypto/secrets.js';
import type { Principal, ServiceContext } from './context.js';
import { CredentialCache } from './credential-cache.js';

export interface DeviceIdentity {
  uid: string;
  device: string;
  did: string;
}

export class AccountService {
  /** Verified Authorization headers (api/credentials.ts looks them up before checking). */
  readonly credentials: CredentialCache;

  constructor(private readonly ctx: ServiceContext) {
    this.credentials = new CredentialCache(ctx.settings.credentialCache, () => ctx.now());
  }

  async registerUser(uid: string, password: string): Promise<{ uid: string }> {
    const passwordHash = await hashPassword(password, this.ctx.settings.scryptCost);
    const created = await this.ctx.store.createUser({ uid, passwordHash, createdAt: this.ctx.now() });
    if (!created) throw new ConflictError(`user ${uid} already exists`);
    return { uid };
  }

  async authenticateUser(uid: string, password: string): Promise<Principal> {
    const user = await this.ctx.store.getUser(uid);
    // Unknown users cost one scrypt too, so timing does not tell them apart.
    const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
    if (!user || !ok) throw new UnauthorizedError();
    return { kind: 'user', uid };
  }

  /** A device's own credentials; null when they do not match a live device. */
  async verifyDevice(did: string, token: string): Promise<DeviceIdentity | null> {
    const d = await this.ctx.store.getDevice(did);
    const ok = tokenMatches(token, d?.tokenHash ?? 'x'.repeat(43));
    if (!d || !ok || d.revokedAt !== null) return null;
    return { uid: d.uid, device: d.name, did: d.did };
  }

  /**
   * HTTP Basic credentials: a DID with its token, or a UID with its password. A UID such as
   * `bob.smith@example.org` also parses as a DID, so a DID that names no device falls back to the
   * password check; a DID that names a device never does (no scrypt for a wrong token). Either
   * way a failure is the same 401.
   */
  async authenticateBasic(name: string, secret: string): Promise<Principal> {
    if (splitDid(name)) {
      const d = await this.ctx.store.getDevice(name);
      if (d) {
        if (d.revokedAt !== null || !tokenMatches(secret, d.tokenHash)) throw new UnauthorizedError();
        return { kind: 'device', uid: d.uid, did: d.did };
      }
    }
    return this.authenticateUser(name, secret);
  }

  /** Device credentials only: endpoints that serve agents never run a password check. */
  async authenticateDeviceOnly(did: string, token: string): Promise<Principal & { kind: 'device' }> {
    const id = await this.verifyDevice(did, token);
    if (!id) throw new UnauthorizedError();
    return { kind: 'device', uid: id.uid, did: id.did };
  }

  authenticateService(key: string): Principal {
    const expected = this.ctx.settings.serviceKey;
    if (expected === null || !secretEquals(key, expected)) throw new UnauthorizedError();
    return { kind: 'service' };
  }

  /** Adds a device to the user's namespace; the token is returned once and stored hashed. */
  async addDevice(p: Principal, uid: string, name: string): Promise<{ did: string; token: string }> {
    this.requireUser(p, uid);
    const did = `${name}.${uid}`;
    const token = newToken();
    const created = await this.ctx.store.createDevice({ did, uid, name, tokenHash: hashToken(token), createdAt: this.ctx.now() });
    if (!created) throw new ConflictError(`device ${did} already exists`);
    return { did, token };
  }

  async listDevices(p: Principal, uid: string): Promise<DeviceRecord[]> {
    if (p.kind !== 'service') this.requireUser(p, uid);
    return this.ctx.store.listDevices(uid);
  }

  async revokeDevice(p: Principal, did: string): Promise<void> {
    const d = await this.ctx.store.getDevice(did);
    if (!d || (p.kind !== 'service' && !this.actsFor(p, d.uid))) throw new NotFoundError(`no device ${did}`);
    if (!(await this.ctx.store.revokeDevice(did, this.ctx.now()))) throw new NotFoundError(`no device ${did}`);
    this.credentials.forgetDevice(did);
    await this.ctx.events.deliver(did, { type: 'revoked', did });
    await this.ctx.events.disconnect(did);
  }

  actsFor(p: Principal, uid: string): boolean {
    return (p.kind === 'user' || p.kind === 'device') && p.uid === uid;
  }

  /** "A device can only act for its own user." */
  requireUser(p: Principal, uid: string): void {
    if (!this.actsFor(p, uid)) throw new ForbiddenError(`not allowed to act for ${uid}`);
  }
}
