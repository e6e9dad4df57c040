import { describe, expect, it } from 'vitest';
import { PairingSession, type PairingMessage, type PairingSecret } from '../../src/agent/lan/pairing-session.js';

const secret: PairingSecret = { uid: 'bob@example.org', code: '7K3Q-9ZXM', nameserver: 'http://198.18.0.1:7000', proxy: '198.18.0.1:1080' };

/** Runs the exchange up to the code comparison; `tamper` may rewrite messages in flight. */
function handshake(tamper: (m: PairingMessage, to: 'n' | 'i') => PairingMessage = (m) => m) {
  const i = new PairingSession('introducer');
  const n = new PairingSession('newcomer');
  let toN = i.begin();
  while (!(i.sas && n.sas)) {
    const toI = toN.flatMap((m) => n.receive(tamper(m, 'n')));
    toN = toI.flatMap((m) => i.receive(tamper(m, 'i')));
  }
  return { i, n };
}

describe('LAN pairing session (numeric comparison)', () => {
  it('shows the same six digits on both devices and hands the secret over only after both confirm', () => {
    const { i, n } = handshake();
    expect(i.sas).toMatch(/^\d{3} \d{3}$/);
    expect(n.sas).toBe(i.sas);
    expect(i.confirm(true)).toEqual([]);
    expect(() => i.seal(secret)).toThrow(expect.objectContaining({ code: 'ERR_PAIRING_STATE' }));
    for (const m of n.confirm(true)) i.receive(m);
    expect(i.bothConfirmed).toBe(true);
    const sealed = i.seal(secret);
    expect(JSON.stringify(sealed)).not.toContain(secret.code);
    expect(n.open(sealed as Extract<PairingMessage, { t: 'secret' }>)).toEqual(secret);
  });

  it('gives different codes to a man in the middle who swaps keys, and the introducer catches a broken commitment', () => {
    const mallory = new PairingSession('newcomer');
    const forged = mallory.receive({ t: 'start', pk: Buffer.alloc(32, 7).toString('base64') })[0]!;
    // Mallory replaces the newcomer's key in the commit but cannot rewrite its commitment to match.
    expect(() =>
      handshake((m, to) => (to === 'i' && m.t === 'commit' ? { ...m, pk: (forged as { pk: string }).pk } : m)),
    ).toThrow(expect.objectContaining({ code: 'ERR_PAIRING_COMMITMENT' }));
  });

  it('aborts on a mismatch, refuses a tampered secret, and rejects messages out of order', () => {
    const { i, n } = handshake();
    expect(n.confirm(false)).toEqual([{ t: 'abort', reason: 'the codes did not match' }]);
    expect(() => i.receive({ t: 'abort', reason: 'the codes did not match' })).toThrow(expect.objectContaining({ code: 'ERR_PAIRING_ABORTED' }));

    const s2 = handshake();
    s2.i.confirm(true);
    for (const m of s2.n.confirm(true)) s2.i.receive(m);
    const sealed = s2.i.seal(secret) as Extract<PairingMessage, { t: 'secret' }>;
    const ct = Buffer.from(sealed.ct, 'base64');
    ct[0]! ^= 1;
    expect(() => s2.n.open({ ...sealed, ct: ct.toString('base64') })).toThrow(expect.objectContaining({ code: 'ERR_PAIRING_SECRET' }));

    const fresh = new PairingSession('newcomer');
    expect(() => fresh.receive({ t: 'nonce', n: 'AAAA' })).toThrow(expect.objectContaining({ code: 'ERR_PAIRING_PROTOCOL' }));
  });
});
