/** Namespace sync (paper V.B.3): the conflict rule, and convergence of devices edited offline. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareEntries, foldLog, type LogEntry } from '../../src/names/sync/log-entry.js';
import { NamespaceReplica } from '../../src/names/sync/namespace-replica.js';
import type { NameServer } from '../../src/names/name-server.js';
import { nextMessage, startTestServer, userWithDevices } from './helpers.js';

const e = (id: string, ts: number, origin: string, key: string, value: string | null): LogEntry => ({ id, ts, origin, op: value === null ? 'delete' : 'set', key, value });

/** A small deterministic PRNG so a failing case can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('conflict rule', () => {
  it('the greatest (ts, origin, id) wins per key, and a delete wins like a set', () => {
    const log = [
      e('id000001', 10, 'pc.a@x.y', 'un:bob', 'bob@x.y'),
      e('id000002', 10, 'phone.a@x.y', 'un:bob', 'robert@x.y'), // same ts: origin decides
      e('id000003', 5, 'phone.a@x.y', 'un:eve', 'eve@x.y'),
      e('id000004', 6, 'pc.a@x.y', 'un:eve', null),
      e('id000005', 6, 'pc.a@x.y', 'dn:tv', 'tv.bob@x.y'),
    ];
    expect([...foldLog(log)]).toEqual([
      ['dn:tv', 'tv.bob@x.y'],
      ['un:bob', 'robert@x.y'],
    ]);
    expect(compareEntries(log[0]!, log[1]!)).toBeLessThan(0);
  });

  it('gives the same state for every arrival order (200 random logs)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const log = Array.from({ length: 12 }, (_, i) =>
        e(`id${seed}x${i}xx`, Math.floor(r() * 4), r() < 0.5 ? 'pc.a@x.y' : 'phone.a@x.y', `un:k${Math.floor(r() * 3)}`, r() < 0.3 ? null : `v${i}@x.y`),
      );
      const shuffled = [...log].sort(() => r() - 0.5);
      expect([...foldLog(shuffled)], `seed ${seed}`).toEqual([...foldLog(log)]);
    }
  });
});

describe('sync through the name server', () => {
  let server: NameServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('two devices that edit the same group offline converge to the same state', async () => {
    const { devices } = await userWithDevices(server.url, 'sync@example.org', ['pc', 'phone', 'tab']);
    const [pc, phone, tab] = devices.map((d) => ({ ...d, replica: new NamespaceReplica(d.did) }));
    const t = Date.now();
    // Offline edits: both rename the same friend, one deletes what the other adds.
    pc!.replica.set('un:bob', 'bob@example.org', t);
    pc!.replica.set('un:eve', 'eve@example.org', t + 1);
    phone!.replica.set('un:bob', 'robert@example.org', t + 2);
    phone!.replica.delete('un:eve', t + 3);
    phone!.replica.set('dn:tv', 'tv.bob@example.org', t + 4);
    pc!.replica.set('dn:tv', 'telly.bob@example.org', t + 4); // same ts: origin "pc" < "phone"

    await phone!.client.syncReplica(phone!.replica);
    await pc!.client.syncReplica(pc!.replica);
    await phone!.client.syncReplica(phone!.replica);
    await tab!.client.syncReplica(tab!.replica);

    const expected = [
      ['dn:tv', 'tv.bob@example.org'],
      ['un:bob', 'robert@example.org'],
    ];
    for (const d of [pc, phone, tab]) expect([...d!.replica.state()], d!.did).toEqual(expected);
    expect(pc!.replica.modified()).toBe(t + 4);
    const hb = await tab!.client.heartbeat({ coa: null, groupModified: tab!.replica.modified() });
    expect(hb).toMatchObject({ mustSync: false, groupModified: t + 4 });
    expect((await tab!.client.heartbeat({ coa: null, groupModified: 0 })).mustSync).toBe(true);
  });

  it('pages long logs and tells the other devices to sync', async () => {
    const { devices } = await userWithDevices(server.url, 'page@example.org', ['pc', 'phone']);
    const pc = new NamespaceReplica(devices[0]!.did);
    const phone = new NamespaceReplica(devices[1]!.did);
    const push = devices[1]!.client.openPush();
    try {
      await push.ready();
      const nudged = nextMessage(push, (m) => m.type === 'group-changed' && m.groupModified === 2199);
      for (let i = 0; i < 1200; i++) pc.set(`un:f${i}`, `f${i}@example.org`, 1000 + i);
      await devices[0]!.client.syncReplica(pc);
      expect(pc.hasPending()).toBe(false);
      expect(await nudged).toMatchObject({ type: 'group-changed' });
      const first = await devices[1]!.client.sync(0, []);
      expect(first.entries.length).toBe(1000);
      expect(first.more).toBe(true);
      await devices[1]!.client.syncReplica(phone);
      expect(phone.state().size).toBe(1200);
      expect([...phone.state()]).toEqual([...pc.state()]);
    } finally {
      push.close();
    }
  });

  it('a replica ahead of the server (restored database) starts over and converges', async () => {
    const { devices } = await userWithDevices(server.url, 'ahead@example.org', ['pc']);
    const r = new NamespaceReplica(devices[0]!.did, { did: devices[0]!.did, seq: 999, entries: [], pending: [] });
    r.set('un:kept', 'kept@example.org', 5);
    await devices[0]!.client.syncReplica(r);
    const fresh = new NamespaceReplica(devices[0]!.did);
    await devices[0]!.client.syncReplica(fresh);
    expect([...fresh.state()]).toEqual([['un:kept', 'kept@example.org']]);
    expect(r.toJSON().seq).toBe(1);
  });

  it('refuses entries made in another device’s name', async () => {
    const { devices } = await userWithDevices(server.url, 'forge@example.org', ['pc']);
    await expect(devices[0]!.client.sync(0, [e('forged01', 1, 'phone.forge@example.org', 'un:x', 'x@y.z')])).rejects.toMatchObject({ status: 400 });
  });

  it('an introduction confirmed on any device updates both groups', async () => {
    const alice = await userWithDevices(server.url, 'alice@example.org', ['pc']);
    const bob = await userWithDevices(server.url, 'bob@example.org', ['phone', 'pc']);
    const pushes = bob.devices.map((d) => d.client.openPush());
    try {
      await Promise.all(pushes.map((p) => p.ready()));
      const seen = pushes.map((p) => nextMessage(p, (m) => m.type === 'introduction'));
      const { id } = await alice.devices[0]!.client.introduce('bob@example.org', 'bobby');
      for (const m of await Promise.all(seen)) expect(m).toMatchObject({ id, from: 'alice@example.org', fromDevice: 'pc.alice@example.org' });
      expect((await bob.devices[1]!.client.listIntroductions()).map((i) => i.id)).toEqual([id]);
      expect(await bob.devices[1]!.client.confirmIntroduction(id, 'ally')).toEqual({ un: 'ally', friend: 'alice@example.org' });
      await expect(bob.devices[0]!.client.confirmIntroduction(id)).rejects.toMatchObject({ status: 409 });
      const ra = new NamespaceReplica(alice.devices[0]!.did);
      const rb = new NamespaceReplica(bob.devices[0]!.did);
      await alice.devices[0]!.client.syncReplica(ra);
      await bob.devices[0]!.client.syncReplica(rb);
      expect([...ra.state()]).toEqual([['un:bobby', 'bob@example.org']]);
      expect([...rb.state()]).toEqual([['un:ally', 'alice@example.org']]);
      // Friends may now resolve each other's devices.
      expect((await alice.devices[0]!.client.resolve('phone.bob@example.org')).did).toBe('phone.bob@example.org');
    } finally {
      for (const p of pushes) p.close();
    }
  });
});
