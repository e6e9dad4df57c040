/** The verified-credentials cache: expiry, bound, revocation, and that it keeps no secret. */
import { describe, expect, it } from 'vitest';
import { CredentialCache } from '../../src/names/service/credential-cache.js';

describe('credential cache', () => {
  const device = (did: string) => ({ kind: 'device' as const, uid: 'a@b.c', did });

  it('forgets an entry after its TTL and keeps at most maxEntries, oldest out first', () => {
    let now = 1000;
    const c = new CredentialCache({ ttlMs: 2000, maxEntries: 2 }, () => now);
    c.remember(c.key('Basic one'), device('one.a@b.c'));
    c.remember(c.key('Basic two'), device('two.a@b.c'));
    c.remember(c.key('Basic three'), device('three.a@b.c'));
    expect(c.size).toBe(2);
    expect(c.get(c.key('Basic one'))).toBeNull();
    expect(c.get(c.key('Basic two'))).toEqual(device('two.a@b.c'));
    now += 1999;
    expect(c.get(c.key('Basic three'))).toEqual(device('three.a@b.c'));
    now += 1;
    expect(c.get(c.key('Basic three'))).toBeNull();
    expect(c.size).toBe(1);
  });

  it('drops a revoked device at once, keeps the others, and stores digests, not headers', () => {
    const c = new CredentialCache({ ttlMs: 2000, maxEntries: 10 }, () => 0);
    const secret = 'Basic cGM6c2VjcmV0LXRva2Vu';
    c.remember(c.key(secret), device('pc.a@b.c'));
    c.remember(c.key('Bearer service-key-0123456789'), { kind: 'service' });
    expect(c.key(secret)).not.toContain('cGM6');
    expect(c.key(secret)).toHaveLength(44);
    c.forgetDevice('pc.a@b.c');
    expect(c.get(c.key(secret))).toBeNull();
    expect(c.get(c.key('Bearer service-key-0123456789'))).toEqual({ kind: 'service' });
  });

  it('caches nothing when the TTL is 0', () => {
    const c = new CredentialCache({ ttlMs: 0, maxEntries: 10 }, () => 0);
    c.remember(c.key('Basic x'), device('x.a@b.c'));
    expect(c.size).toBe(0);
  });
});
