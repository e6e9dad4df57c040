/** Pure pieces: pairing codes, the Authorization header, secrets. */
import { describe, expect, it } from 'vitest';
import { hashPairingCode, newPairingCode, normalizePairingCode } from '../../src/names/crypto/pairing-code.js';
import { basicHeader, parseAuthorization } from '../../src/names/api/credentials.js';
import { hashPassword, hashToken, newToken, secretEquals, tokenMatches, verifyPassword } from '../../src/names/crypto/secrets.js';
import { splitDid } from '../../src/names/model.js';

describe('pairing codes', () => {
  it('are 8 Crockford base32 symbols shown as XXXX-XXXX, and differ each time', () => {
    const codes = new Set(Array.from({ length: 200 }, newPairingCode));
    expect(codes.size).toBe(200);
    for (const c of codes) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  });

  it('read back whatever case, dashes and look-alike letters were typed', () => {
    expect(normalizePairingCode('7k3q-9zxm')).toBe('7K3Q9ZXM');
    expect(normalizePairingCode(' 7K3Q 9ZXM ')).toBe('7K3Q9ZXM');
    expect(normalizePairingCode('OIL0-1111')).toBe('01101111');
    expect(normalizePairingCode('7K3Q-9ZX')).toBeNull();
    expect(normalizePairingCode('UUUU-UUUU')).toBeNull();
    expect(hashPairingCode('a@b.c', '7K3Q9ZXM')).not.toBe(hashPairingCode('z@b.c', '7K3Q9ZXM'));
  });
});

describe('Authorization header', () => {
  it('parses Basic with a DID or UID (colons allowed in the secret) and Bearer', () => {
    expect(parseAuthorization(basicHeader('phone.bob@example.org', 'a:b:c'))).toEqual({ scheme: 'basic', name: 'phone.bob@example.org', secret: 'a:b:c' });
    expect(parseAuthorization('bearer abc')).toEqual({ scheme: 'bearer', token: 'abc' });
    expect(parseAuthorization(`Basic ${Buffer.from('bob@example.org:').toString('base64')}`)).toEqual({ scheme: 'basic', name: 'bob@example.org', secret: '' });
  });

  it('refuses what is not one of them', () => {
    for (const h of [undefined, '', 'Basic', 'Basic !!!', `Basic ${Buffer.from('nocolon').toString('base64')}`, `Basic ${Buffer.from(':x').toString('base64')}`, 'Digest x', 'Bearer ']) {
      expect(parseAuthorization(h), String(h)).toBeNull();
    }
  });
});

describe('secrets', () => {
  it('hashes passwords with scrypt and a salt, and verifies only the right one', async () => {
    const cost = { N: 1024, r: 8, p: 1 };
    const a = await hashPassword('pw-123456', cost);
    const b = await hashPassword('pw-123456', cost);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('pw-123456', a)).toBe(true);
    expect(await verifyPassword('pw-123457', a)).toBe(false);
    expect(await verifyPassword('pw-123456', 'garbage')).toBe(false);
  });

  it('keeps tokens as digests and compares them whole', () => {
    const t = newToken();
    expect(tokenMatches(t, hashToken(t))).toBe(true);
    expect(tokenMatches(`${t}x`, hashToken(t))).toBe(false);
    expect(tokenMatches(t, 'short')).toBe(false);
    expect(secretEquals('service-key-1234', 'service-key-1234')).toBe(true);
    expect(secretEquals('service-key-1234', 'service-key-1235')).toBe(false);
  });
});

describe('DIDs', () => {
  it('split at the first dot into a device label and an e-mail UID', () => {
    expect(splitDid('phone.bob.smith@example.org')).toEqual({ name: 'phone', uid: 'bob.smith@example.org' });
    for (const bad of ['phone', '.bob@example.org', 'phone.bob', 'Phone.bob@example.org', 'ph one.bob@example.org', 'phone.']) expect(splitDid(bad), bad).toBeNull();
  });
});
