import { createCipheriv, createDecipheriv, createHash, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, createPublicKey, type KeyObject } from 'node:crypto';
import { TsmpError } from '../../common/errors.js';

/**
 * LAN pairing (paper V.B.2, a new device introduced by one of the user's devices), as numeric
 * comparison after Bluetooth Secure Simple Pairing (Core Spec v5.3, Vol 3 Part H, 2.3.5.6.2):
 * an X25519 exchange, a commitment by the new device so that a man in the middle cannot pick
 * its key after seeing the nonces, and a 6-digit code derived from both keys and nonces that the
 * user compares on the two screens. Only after both users confirm does the introducer send the
 * name server's one-time pairing code, encrypted under the exchanged key (AES-256-GCM).
 *
 *   introducer                          new device
 *   start {pk: PKi}              ──▶
 *                                ◀──   commit {pk: PKn, c: H(PKn‖PKi‖Nn)}
 *   nonce {n: Ni}                ──▶
 *                                ◀──   nonce {n: Nn}          (introducer checks c)
 *         both show SAS = H("tsmp-sas"‖PKi‖PKn‖Ni‖Nn) mod 10^6; the users confirm
 *                                ◀──   confirm
 *   secret {iv, ct, tag}         ──▶   (uid, code, name server, proxy)
 *                                ◀──   done {did}
 */
export type PairingMessage =
  | { t: 'start'; pk: string }
  | { t: 'commit'; pk: string; c: string }
  | { t: 'nonce'; n: string }
  | { t: 'confirm' }
  | { t: 'secret'; iv: string; ct: string; tag: string }
  | { t: 'done'; did: string }
  | { t: 'abort'; reason: string };

/** What the introducer hands over: enough for the new device to claim its DID and find the proxy. */
export interface PairingSecret {
  uid: string;
  code: string;
  nameserver: string;
  proxy?: string;
  proxyControl?: string;
}

export class PairingError extends TsmpError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

export const STATES = {
  START: 'start',
  AWAIT_COMMIT: 'await-commit',
  AWAIT_START: 'await-start',
  AWAIT_NONCE: 'await-nonce',
  COMPARE: 'compare',
  AWAIT_CONFIRM: 'await-confirm',
  AWAIT_SECRET: 'await-secret',
  AWAIT_DONE: 'await-done',
  DONE: 'done',
  FAILED: 'failed',
} as const;
export type PairingState = (typeof STATES)[keyof typeof STATES];

const b64 = (b: Buffer) => b.toString('base64');
const unb64 = (s: unknown, bytes?: number): Buffer => {
  if (typeof s !== 'string') throw new PairingError('ERR_PAIRING_PROTOCOL', 'malformed pairing message');
  const b = Buffer.from(s, 'base64');
  if (bytes !== undefined && b.length !== bytes) throw new PairingError('ERR_PAIRING_PROTOCOL', 'malformed pairing message');
  return b;
};
const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

function rawPublicKey(key: KeyObject): Buffer {
  return Buffer.from((key.export({ format: 'jwk' }) as { x: string }).x, 'base64url');
}
function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** The six digits both screens show, as `123 456`. */
export function shortAuthString(pkI: Buffer, pkN: Buffer, nI: Buffer, nN: Buffer): string {
  const v = sha(Buffer.from('tsmp-sas'), pkI, pkN, nI, nN).readUInt32BE(0) % 1_000_000;
  const s = v.toString().padStart(6, '0');
  return `${s.slice(0, 3)} ${s.slice(3)}`;
}

/** One side of a pairing: a pure state machine, messages in, messages out; no I/O. */
export class PairingSession {
  state: PairingState;
  readonly role: 'introducer' | 'newcomer';
  readonly #key = generateKeyPairSync('x25519');
  readonly #nonce = randomBytes(16);
  #peerPk: Buffer | undefined;
  #peerNonce: Buffer | undefined;
  #commit: Buffer | undefined;
  #sas: string | undefined;
  #confirmedHere = false;
  #confirmedThere = false;

  constructor(role: 'introducer' | 'newcomer') {
    this.role = role;
    this.state = role === 'introducer' ? STATES.START : STATES.AWAIT_START;
  }

  get sas(): string | undefined {
    return this.#sas;
  }

  get #pk(): Buffer {
    return rawPublicKey(this.#key.publicKey);
  }

  /** Introducer only: the first message. */
  begin(): PairingMessage[] {
    this.#expect(STATES.START);
    this.state = STATES.AWAIT_COMMIT;
    return [{ t: 'start', pk: b64(this.#pk) }];
  }

  /** Takes a peer message; returns what to send back. Throws PairingError on anything unexpected. */
  receive(m: PairingMessage): PairingMessage[] {
    if (m.t === 'abort') return this.#fail('ERR_PAIRING_ABORTED', `the other device aborted: ${String(m.reason).slice(0, 200)}`);
    switch (this.state) {
      case STATES.AWAIT_START: {
        if (m.t !== 'start') return this.#unexpected(m);
        this.#peerPk = unb64(m.pk, 32);
        this.state = STATES.AWAIT_NONCE;
        return [{ t: 'commit', pk: b64(this.#pk), c: b64(sha(this.#pk, this.#peerPk, this.#nonce)) }];
      }
      case STATES.AWAIT_COMMIT: {
        if (m.t !== 'commit') return this.#unexpected(m);
        this.#peerPk = unb64(m.pk, 32);
        this.#commit = unb64(m.c, 32);
        this.state = STATES.AWAIT_NONCE;
        return [{ t: 'nonce', n: b64(this.#nonce) }];
      }
      case STATES.AWAIT_NONCE: {
        if (m.t !== 'nonce') return this.#unexpected(m);
        this.#peerNonce = unb64(m.n, 16);
        if (this.role === 'introducer') {
          if (!sha(this.#peerPk!, this.#pk, this.#peerNonce).equals(this.#commit!)) return this.#fail('ERR_PAIRING_COMMITMENT', 'the new device broke its commitment (possible attack)');
          this.#sas = shortAuthString(this.#pk, this.#peerPk!, this.#nonce, this.#peerNonce);
          this.state = STATES.COMPARE;
          return [];
        }
        this.#sas = shortAuthString(this.#peerPk!, this.#pk, this.#peerNonce, this.#nonce);
        this.state = STATES.COMPARE;
        return [{ t: 'nonce', n: b64(this.#nonce) }];
      }
      case STATES.COMPARE:
      case STATES.AWAIT_CONFIRM: {
        if (this.role !== 'introducer' || m.t !== 'confirm') return this.#unexpected(m);
        this.#confirmedThere = true;
        return [];
      }
      case STATES.AWAIT_SECRET: {
        if (m.t !== 'secret') return this.#unexpected(m);
        return [];
      }
      case STATES.AWAIT_DONE: {
        if (m.t !== 'done') return this.#unexpected(m);
        this.state = STATES.DONE;
        return [];
      }
      default:
        return this.#unexpected(m);
    }
  }

  /** The local user's answer to "do both screens show the same code?". */
  confirm(same: boolean): PairingMessage[] {
    this.#expect(STATES.COMPARE);
    if (!same) {
      this.state = STATES.FAILED;
      return [{ t: 'abort', reason: 'the codes did not match' }];
    }
    this.#confirmedHere = true;
    if (this.role === 'newcomer') {
      this.state = STATES.AWAIT_SECRET;
      return [{ t: 'confirm' }];
    }
    this.state = STATES.AWAIT_CONFIRM;
    return [];
  }

  /** Introducer: true once both users confirmed, so the secret may go. */
  get bothConfirmed(): boolean {
    return this.#confirmedHere && this.#confirmedThere;
  }

  /** Introducer: encrypts the pairing secret for the new device. */
  seal(secret: PairingSecret): PairingMessage {
    if (this.role !== 'introducer' || !this.bothConfirmed) throw new PairingError('ERR_PAIRING_STATE', 'both users must confirm the code first');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#aeadKey(), iv);
    cipher.setAAD(this.#transcript());
    const ct = Buffer.concat([cipher.update(JSON.stringify(secret)), cipher.final()]);
    this.state = STATES.AWAIT_DONE;
    return { t: 'secret', iv: b64(iv), ct: b64(ct), tag: b64(cipher.getAuthTag()) };
  }

  /** New device: decrypts the secret (a forged or altered one fails authentication). */
  open(m: Extract<PairingMessage, { t: 'secret' }>): PairingSecret {
    this.#expect(STATES.AWAIT_SECRET);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#aeadKey(), unb64(m.iv, 12));
      decipher.setAAD(this.#transcript());
      decipher.setAuthTag(unb64(m.tag, 16));
      const plain = Buffer.concat([decipher.update(unb64(m.ct)), decipher.final()]);
      const secret = JSON.parse(plain.toString()) as PairingSecret;
      this.state = STATES.DONE;
      return secret;
    } catch {
      return this.#fail('ERR_PAIRING_SECRET', 'the pairing secret failed authentication');
    }
  }

  fail(): void {
    this.state = STATES.FAILED;
  }

  #aeadKey(): Buffer {
    const shared = diffieHellman({ privateKey: this.#key.privateKey, publicKey: publicKeyFromRaw(this.#peerPk!) });
    return Buffer.from(hkdfSync('sha256', shared, this.#transcript(), 'tsmp-pair-v1', 32));
  }

  #transcript(): Buffer {
    const [pkI, pkN, nI, nN] = this.role === 'introducer' ? [this.#pk, this.#peerPk!, this.#nonce, this.#peerNonce!] : [this.#peerPk!, this.#pk, this.#peerNonce!, this.#nonce];
    return sha(pkI, pkN, nI, nN);
  }

  #expect(state: PairingState): void {
    if (this.state !== state) throw new PairingError('ERR_PAIRING_STATE', `pairing is in state ${this.state}, not ${state}`);
  }

  #unexpected(m: PairingMessage): never {
    return this.#fail('ERR_PAIRING_PROTOCOL', `unexpected "${String(m.t)}" in state ${this.state}`);
  }

  #fail(code: string, message: string): never {
    this.state = STATES.FAILED;
    throw new PairingError(code, message);
  }
}
