/** Shared by the name-server tests: a server on 127.0.0.1 port 0 with fast test settings. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NameServer, type NameServerOptions } from '../../src/names/name-server.js';
import { NameServerClient } from '../../src/names/client/name-server-client.js';
import type { PushMessage } from '../../src/names/service/context.js';
import type { PushSubscriber } from '../../src/names/client/push-subscriber.js';

/** scrypt with a small N keeps tests fast; production uses N=2^15. */
export const FAST_SCRYPT = { N: 1024, r: 8, p: 1 };
export const SERVICE_KEY = 'test-service-key-0123456789';
export const PASSWORD = 'correct horse battery';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsmp-names-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startTestServer(over: Partial<NameServerOptions> = {}): Promise<NameServer> {
  return NameServer.start({
    db: ':memory:',
    port: 0,
    rateLimits: { password: { max: 10_000, timeWindow: 60_000 }, verify: { max: 10_000, timeWindow: 60_000 }, mixed: { max: 10_000, timeWindow: 60_000 } },
    ...over,
    settings: { scryptCost: FAST_SCRYPT, serviceKey: SERVICE_KEY, ...over.settings },
  });
}

export async function userWithDevices(url: string, uid: string, names: string[]) {
  const anon = new NameServerClient({ url });
  await anon.registerUser(uid, PASSWORD);
  const user = anon.withAuth({ uid, password: PASSWORD });
  const devices: { did: string; token: string; client: NameServerClient }[] = [];
  for (const name of names) {
    const d = await user.addDevice(uid, name);
    devices.push({ ...d, client: anon.withAuth({ did: d.did, token: d.token }) });
  }
  return { anon, user, devices };
}

/** Resolves with the first message matching `pred`, or rejects after `ms`. */
export function nextMessage(sub: PushSubscriber, pred: (m: PushMessage) => boolean, ms = 5000): Promise<PushMessage> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      sub.off('message', on);
      reject(new Error(`no matching push message within ${ms} ms`));
    }, ms);
    const on = (m: PushMessage) => {
      if (!pred(m)) return;
      clearTimeout(t);
      sub.off('message', on);
      resolve(m);
    };
    sub.on('message', on);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
