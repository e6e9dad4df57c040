/**
 * PostgreSQL: the store contract, and two name-server processes over one database serving one
 * namespace (registration visible at once on the other, push and CoA events across them through
 * LISTEN/NOTIFY). Skipped with one line when no PostgreSQL is reachable.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/names/store/postgres-store.js';
import { NameServerClient } from '../../src/names/client/name-server-client.js';
import type { NameServer } from '../../src/names/name-server.js';
import { storeContract } from './store-contract.js';
import { dropSchema, newSchema, PG_URL, pgReachable } from './pg-support.js';
import { nextMessage, PASSWORD, SERVICE_KEY, startTestServer, userWithDevices } from './helpers.js';
import { killAll, startNameServerProcess } from './process-support.js';

const reachable = await pgReachable();
if (!reachable) {
  process.stderr.write(`PostgreSQL not reachable at ${PG_URL.replace(/:[^:@/]*@/, ':***@')}: skipping the PostgreSQL name-server tests (run scripts/ci-names.sh, or set TSMP_TEST_PG_URL)\n`);
}

const schemas: string[] = [];
afterAll(async () => {
  killAll();
  for (const s of schemas) await dropSchema(s);
});

describe.skipIf(!reachable)('PostgreSQL', () => {
  storeContract('PostgreSQL', async () => {
    const schema = newSchema('tsmp_contract');
    schemas.push(schema);
    return PostgresStore.open({ url: PG_URL, schema, poolSize: 4 });
  });

  describe('two name-server processes on one database', () => {
    let a: NameServer;
    let b: NameServer;
    const schema = newSchema('tsmp_nodes');
    schemas.push(schema);

    it('start together and migrate once', async () => {
      [a, b] = await Promise.all([startTestServer({ db: PG_URL, schema }), startTestServer({ db: PG_URL, schema })]);
      expect(a.url).not.toBe(b.url);
    });

    it('a registration on one is resolvable on the other at once', async () => {
      const { devices } = await userWithDevices(a.url, 'bob@example.org', ['phone', 'pc']);
      const onB = new NameServerClient({ url: b.url, auth: { uid: 'bob@example.org', password: PASSWORD } });
      expect((await onB.listDevices('bob@example.org')).map((d) => d.did)).toEqual(['pc.bob@example.org', 'phone.bob@example.org']);
      const phoneOnB = onB.withAuth({ did: devices[0]!.did, token: devices[0]!.token });
      await phoneOnB.heartbeat({ coa: '198.18.0.7:4000', groupModified: 0 });
      const r = await new NameServerClient({ url: a.url, auth: { serviceKey: SERVICE_KEY } }).resolve('phone.bob@example.org');
      expect(r).toMatchObject({ status: 'online', coa: '198.18.0.7:4000' });
    });

    it('a push reaches an agent connected to either process', async () => {
      const { devices } = await userWithDevices(a.url, 'carol@example.org', ['phone', 'pc']);
      const agentOnA = new NameServerClient({ url: a.url, auth: { did: devices[0]!.did, token: devices[0]!.token } }).openPush();
      const agentOnB = new NameServerClient({ url: b.url, auth: { did: devices[1]!.did, token: devices[1]!.token } }).openPush();
      try {
        await Promise.all([agentOnA.ready(), agentOnB.ready()]);
        for (const [via, target, sub] of [
          [b, devices[0]!.did, agentOnA],
          [a, devices[1]!.did, agentOnB],
        ] as const) {
          const proxy = new NameServerClient({ url: via.url, auth: { serviceKey: SERVICE_KEY } });
          const got = nextMessage(sub, (m) => m.type === 'migration');
          const res = await proxy.push(target, { type: 'migration', ticket: `t-${target}` });
          expect(res.delivered).toBe('fanout');
          expect(await got).toMatchObject({ type: 'migration', ticket: `t-${target}`, from: 'service' });
        }
      } finally {
        agentOnA.close();
        agentOnB.close();
      }
    });

    it('a proxy subscribed on one process hears of a CoA change reported to the other', async () => {
      const { devices } = await userWithDevices(a.url, 'dave@example.org', ['phone']);
      const events: { coa: string | null; status: string }[] = [];
      const watch = new NameServerClient({ url: a.url, auth: { serviceKey: SERVICE_KEY } }).watchDevices([devices[0]!.did], (ev) => events.push(ev));
      try {
        await watch.ready();
        await expect.poll(() => events.length).toBe(1);
        expect(events[0]).toMatchObject({ status: 'offline', coa: null });
        const phoneOnB = new NameServerClient({ url: b.url, auth: { did: devices[0]!.did, token: devices[0]!.token } });
        await phoneOnB.heartbeat({ coa: '198.18.0.9:1', groupModified: 0 });
        await expect.poll(() => events.at(-1)?.coa, { timeout: 5000 }).toBe('198.18.0.9:1');
        expect(events.at(-1)?.status).toBe('online');
      } finally {
        watch.close();
      }
    });

    it('stop', async () => {
      await Promise.all([a?.close(), b?.close()]);
    });
  });

  describe('two real `tsmp nameserver` processes', () => {
    it('share registrations and pushes through the database', async () => {
      const schema = newSchema('tsmp_procs');
      schemas.push(schema);
      const args = ['--db', PG_URL, '--db-schema', schema, '--service-key', SERVICE_KEY, '--rate-limit', '100000'];
      const [a, b] = await Promise.all([startNameServerProcess(args), startNameServerProcess(args)]);
      try {
        const anon = new NameServerClient({ url: a.url });
        await anon.registerUser('procs@example.org', PASSWORD);
        const phone = await anon.withAuth({ uid: 'procs@example.org', password: PASSWORD }).addDevice('procs@example.org', 'phone');
        const onB = new NameServerClient({ url: b.url });
        expect(await onB.verifyDevice(phone.did, phone.token)).toEqual({ uid: 'procs@example.org', device: 'phone', did: phone.did });
        const agent = onB.withAuth({ did: phone.did, token: phone.token }).openPush();
        try {
          await agent.ready();
          const got = nextMessage(agent, (m) => m.type === 'migration');
          const res = await anon.withAuth({ serviceKey: SERVICE_KEY }).push(phone.did, { type: 'migration', ticket: 'across-processes' });
          expect(res.delivered).toBe('fanout');
          expect(await got).toMatchObject({ ticket: 'across-processes' });
        } finally {
          agent.close();
        }
      } finally {
        a.child.kill('SIGTERM');
        b.child.kill('SIGTERM');
      }
    });
  });
});
