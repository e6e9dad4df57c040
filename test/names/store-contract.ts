/**
 * The contract every NameStore passes (STYLE.md: one suite for all implementations).
 * `open` returns a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NameStore, NewDevice } from '../../src/names/store/name-store.js';
import type { LogEntry } from '../../src/names/sync/log-entry.js';

const T0 = 1_700_000_000_000;

function dev(name: string, uid: string, at = T0): NewDevice {
  return { did: `${name}.${uid}`, uid, name, tokenHash: `hash-${name}-${uid}`, createdAt: at };
}

function entry(id: string, ts: number, key = 'un:x', value: string | null = 'a@b.c'): LogEntry {
  return { id, ts, origin: 'pc.a@b.c', op: value === null ? 'delete' : 'set', key, value };
}

export function storeContract(name: string, open: () => Promise<NameStore>): void {
  describe(`NameStore contract: ${name}`, () => {
    let store: NameStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('creates a user once and refuses the same UID again', async () => {
      expect(await store.createUser({ uid: 'a@b.c', passwordHash: 'h1', createdAt: T0 })).toBe(true);
      expect(await store.createUser({ uid: 'a@b.c', passwordHash: 'h2', createdAt: T0 })).toBe(false);
      expect(await store.getUser('a@b.c')).toEqual({ uid: 'a@b.c', passwordHash: 'h1', createdAt: T0 });
      expect(await store.getUser('nobody@b.c')).toBeNull();
    });

    it('creates devices, lists them by user in name order, and refuses a taken DID', async () => {
      await store.createUser({ uid: 'a@b.c', passwordHash: 'h', createdAt: T0 });
      await store.createUser({ uid: 'z@b.c', passwordHash: 'h', createdAt: T0 });
      expect(await store.createDevice(dev('pc', 'a@b.c'))).toBe(true);
      expect(await store.createDevice(dev('phone', 'a@b.c'))).toBe(true);
      expect(await store.createDevice(dev('pc', 'z@b.c'))).toBe(true);
      expect(await store.createDevice(dev('pc', 'a@b.c'))).toBe(false);
      const list = await store.listDevices('a@b.c');
      expect(list.map((d) => d.did)).toEqual(['pc.a@b.c', 'phone.a@b.c']);
      expect(list[0]).toMatchObject({ uid: 'a@b.c', name: 'pc', tokenHash: 'hash-pc-a@b.c', createdAt: T0, revokedAt: null, coa: null, lastSeen: null });
    });

    it('fetches several devices at once, skipping unknown ones', async () => {
      await store.createUser({ uid: 'a@b.c', passwordHash: 'h', createdAt: T0 });
      for (const n of ['pc', 'phone', 'tab']) await store.createDevice(dev(n, 'a@b.c'));
      const got = await store.getDevices(['tab.a@b.c', 'ghost.a@b.c', 'pc.a@b.c']);
      expect(got.map((d) => d.did).sort()).toEqual(['pc.a@b.c', 'tab.a@b.c']);
      expect(await store.getDevices([])).toEqual([]);
    });

    it('refuses a device of an unknown user', async () => {
      await expect(store.createDevice(dev('pc', 'ghost@b.c'))).rejects.toThrow();
      expect(await store.getDevice('pc.ghost@b.c')).toBeNull();
    });

    it('records heartbeats, returns the previous presence, and ignores revoked devices', async () => {
      await store.createUser({ uid: 'a@b.c', passwordHash: 'h', createdAt: T0 });
      await store.createDevice(dev('pc', 'a@b.c'));
      expect(await store.heartbeat({ did: 'pc.a@b.c', coa: '198.18.0.1:1', control: null, now: T0 + 1 })).toEqual({ coa: null, lastSeen: null });
      expect(await store.heartbeat({ did: 'pc.a@b.c', coa: '198.18.0.2:2', control: '127.0.0.1:9', now: T0 + 2 })).toEqual({ coa: '198.18.0.1:1', lastSeen: T0 + 1 });
      expect(await store.getDevice('pc.a@b.c')).toMatchObject({ coa: '198.18.0.2:2', control: '127.0.0.1:9', lastSeen: T0 + 2 });
      expect(await store.heartbeat({ did: 'nope.a@b.c', coa: null, control: null, now: T0 })).toBeNull();
      expect(await store.revokeDevice('pc.a@b.c', T0 + 3)).toBe(true);
      expect(await store.revokeDevice('pc.a@b.c', T0 + 4)).toBe(false);
      expect((await store.getDevice('pc.a@b.c'))?.revokedAt).toBe(T0 + 3);
      expect(await store.heartbeat({ did: 'pc.a@b.c', coa: null, control: null, now: T0 + 5 })).toBeNull();
    });

    it('applies concurrent heartbeats in arrival order, each with its own previous presence (group commit)', async () => {
      await store.createUser({ uid: 'a@b.c', passwordHash: 'h', createdAt: T0 });
      for (const n of ['pc', 'tab']) await store.createDevice(dev(n, 'a@b.c'));
      const [a, b, c, d] = await Promise.all([
        store.heartbeat({ did: 'pc.a@b.c', coa: '198.18.0.1:1', control: null, now: T0 + 1 }),
        store.heartbeat({ did: 'nope.a@b.c', coa: null, control: null, now: T0 + 1 }),
        store.heartbeat({ did: 'pc.a@b.c', coa: '198.18.0.2:2', control: null, now: T0 + 2 }),
        store.heartbeat({ did: 'tab.a@b.c', coa: '198.18.0.3:3', control: '127.0.0.1:9', now: T0 + 3 }),
      ]);
      expect([a, b, c, d]).toEqual([{ coa: null, lastSeen: null }, null, { coa: '198.18.0.1:1', lastSeen: T0 + 1 }, { coa: null, lastSeen: null }]);
      expect(await store.getDevice('pc.a@b.c')).toMatchObject({ coa: '198.18.0.2:2', lastSeen: T0 + 2 });
      expect(await store.getDevice('tab.a@b.c')).toMatchObject({ coa: '198.18.0.3:3', control: '127.0.0.1:9', lastSeen: T0 + 3 });
    });

    it('claims a pairing code once, before it expires, and creates the device in the same step', async () => {
      await store.createUser({ uid: 'a@b.c', passwordHash: 'h', createdAt: T0 });
      await store.createPairing({ codeHash: 'code1', uid: 'a@b.c', createdBy: 'pc.a@b.c', expiresAt: T0 + 1000 });
      await store.createPairing({ codeHash: 'code2', uid: 'a@b.c', createdBy: 'pc.a@b.c', expiresAt: T0 + 1000 });
      expect(await store.claimPairing('wrong', dev('tab', 'a@b.c', T0 + 1))).toEqual({ result: 'invalid' });
      expect(await store.claimPairing('code1', dev('tab', 'a@b.c', T0 + 1))).toEqual({ result: 'ok', createdBy: 'pc.a@b.c' });
      expect(await store.getDevice('tab.a@b.c')).not.toBeNull();
      expect(await store.claimPairing('code1', dev('tab2', 'a@b.c', T0 + 2))).toEqual({ result: 'invalid' });
      expect(await store.claimPairing('code2', dev('tab', 'a@b.c', T0 + 2))).toEqual({ result: 'taken' });
      expect(await store.claimPairing('code2', dev('tab3', 'a@b.c', T0 + 1000))).toEqual({ result: 'invalid' });
      expect(await store.getDevice('tab3.a@b.c')).toBeNull();
    });

    it('appends log entries once each, in sequence, and reads them after a position', async () => {
      await store.createUser({ uid: 'a@b.c', passwordHash: 'h', createdAt: T0 });
      expect(await store.groupVersion('a@b.c')).toEqual({ seq: 0, modified: 0 });
      expect(await store.appendLog('a@b.c', [entry('e00000001', 5), entry('e00000002', 9)])).toBe(2);
      expect(await store.appendLog('a@b.c', [entry('e00000002', 9), entry('e00000003', 7, 'dn:y', null)])).toBe(1);
      const all = await store.readLog('a@b.c', 0, 100);
      expect(all.map((e) => [e.seq, e.id])).toEqual([[1, 'e00000001'], [2, 'e00000002'], [3, 'e00000003']]);
      expect(all[2]).toEqual({ seq: 3, id: 'e00000003', ts: 7, origin: 'pc.a@b.c', op: 'delete', key: 'dn:y', value: null });
      expect((await store.readLog('a@b.c', 1, 1)).map((e) => e.id)).toEqual(['e00000002']);
      expect(await store.groupVersion('a@b.c')).toEqual({ seq: 3, modified: 9 });
    });

    it('confirms an introduction once: friendship both ways and both logs in one step', async () => {
      for (const uid of ['a@b.c', 'z@b.c']) await store.createUser({ uid, passwordHash: 'h', createdAt: T0 });
      await store.createIntroduction({ id: 'i1', fromUid: 'a@b.c', fromDid: 'pc.a@b.c', toUid: 'z@b.c', fromName: 'zed', state: 'pending', createdAt: T0, expiresAt: T0 + 10 });
      expect((await store.listIntroductions('z@b.c', T0 + 1)).map((i) => i.id)).toEqual(['i1']);
      expect(await store.listIntroductions('z@b.c', T0 + 10)).toEqual([]);
      expect(await store.areFriends('a@b.c', 'z@b.c')).toBe(false);
      const entries = [
        { uid: 'a@b.c', entry: entry('ea0000001', 3, 'un:zed', 'z@b.c') },
        { uid: 'z@b.c', entry: entry('ez0000001', 3, 'un:ay', 'a@b.c') },
      ];
      expect(await store.confirmIntroduction('i1', entries)).toBe(true);
      expect(await store.confirmIntroduction('i1', entries)).toBe(false);
      expect(await store.areFriends('a@b.c', 'z@b.c')).toBe(true);
      expect(await store.areFriends('z@b.c', 'a@b.c')).toBe(true);
      expect((await store.getIntroduction('i1'))?.state).toBe('confirmed');
      expect((await store.readLog('z@b.c', 0, 10)).map((e) => e.key)).toEqual(['un:ay']);
      expect((await store.readLog('a@b.c', 0, 10)).map((e) => e.key)).toEqual(['un:zed']);
    });

    it('rolls back a confirmation whose log entry cannot be written', async () => {
      for (const uid of ['a@b.c', 'z@b.c']) await store.createUser({ uid, passwordHash: 'h', createdAt: T0 });
      await store.createIntroduction({ id: 'i2', fromUid: 'a@b.c', fromDid: 'pc.a@b.c', toUid: 'z@b.c', fromName: 'zed', state: 'pending', createdAt: T0, expiresAt: T0 + 10 });
      // The second entry names a group of a user that does not exist: the foreign key fails.
      await expect(
        store.confirmIntroduction('i2', [
          { uid: 'a@b.c', entry: entry('ea0000002', 3, 'un:zed', 'z@b.c') },
          { uid: 'ghost@b.c', entry: entry('eg0000002', 3, 'un:ay', 'a@b.c') },
        ]),
      ).rejects.toThrow();
      expect((await store.getIntroduction('i2'))?.state).toBe('pending');
      expect(await store.areFriends('a@b.c', 'z@b.c')).toBe(false);
      expect(await store.readLog('a@b.c', 0, 10)).toEqual([]);
    });

    it('imports devices in bulk', async () => {
      await store.createUser({ uid: 'a@b.c', passwordHash: 'h', createdAt: T0 });
      const many = Array.from({ length: 6000 }, (_, i) => dev(`d${i}`, 'a@b.c'));
      await store.importDevices(many);
      expect((await store.listDevices('a@b.c')).length).toBe(6000);
      expect((await store.getDevice('d5999.a@b.c'))?.tokenHash).toBe('hash-d5999-a@b.c');
    });
  });
}
