/**
 * Crash safety (issue 3): the real server process (`tsmp nameserver`, from dist/) is killed
 * with SIGKILL while registrations are in flight; after a restart on the same database every
 * registration that was acknowledged is there and usable. Needs `npm run build` (npm test does it).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NameServerClient } from '../../src/names/client/name-server-client.js';
import { PASSWORD, SERVICE_KEY, sleep, tempDir } from './helpers.js';
import { killAll, startNameServerProcess } from './process-support.js';

const tmp = tempDir();
afterAll(() => {
  killAll();
  tmp.cleanup();
});

const startProcess = (db: string) => startNameServerProcess(['--db', db, '--rate-limit', '1000000', '--service-key', SERVICE_KEY]);

describe('SIGKILL at any moment', () => {
  it('loses no acknowledged registration (3 kills during concurrent registrations)', async () => {
    const db = join(tmp.dir, 'crash.db');
    const acked: { did: string; token: string }[] = [];
    // The last acknowledged care-of address of each round's first device (a heartbeat is not a
    // registration, but a CoA change is written before it is answered: docs/names.md).
    const coas: { did: string; coa: string }[] = [];
    const users: string[] = [];
    let seq = 0;
    for (let round = 0; round < 3; round++) {
      const { child, url } = await startProcess(db);
      const anon = new NameServerClient({ url, timeoutMs: 5000 });
      const uid = `crash${round}@example.org`;
      await anon.registerUser(uid, PASSWORD);
      users.push(uid);
      const first = await anon.withAuth({ uid, password: PASSWORD }).addDevice(uid, 'pc');
      acked.push(first);
      const pc = anon.withAuth({ did: first.did, token: first.token });
      await pc.heartbeat({ coa: `198.18.10.${round}:1`, groupModified: 0 });
      await pc.heartbeat({ coa: `198.18.10.${round}:2`, groupModified: 0 });
      coas.push({ did: first.did, coa: `198.18.10.${round}:2` });
      let stop = false;
      // Several workers register devices through pairing codes (each one a transaction) as fast
      // as they can; only answers that arrived count as acknowledged.
      const worker = async () => {
        while (!stop) {
          try {
            const { code } = await pc.createPairing();
            const name = `d${seq++}`;
            acked.push(await anon.claimPairing(uid, code, name));
          } catch {
            return; // the process died under us
          }
        }
      };
      const workers = Array.from({ length: 6 }, worker);
      await sleep(300 + Math.random() * 500);
      child.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      anon.close();
    }
    expect(acked.length).toBeGreaterThan(20);
    const { child, url } = await startProcess(db);
    const proxy = new NameServerClient({ url, auth: { serviceKey: SERVICE_KEY } });
    const missing: string[] = [];
    for (const d of acked) if (!(await proxy.verifyDevice(d.did, d.token))) missing.push(d.did);
    expect(missing).toEqual([]);
    for (const { did, coa } of coas) expect((await proxy.resolve(did)).coa).toBe(coa);
    for (const uid of users) expect((await proxy.withAuth({ uid, password: PASSWORD }).listDevices(uid)).length).toBeGreaterThan(0);
    child.kill('SIGKILL');
  });
});
