/**
 * The name server's own cost without HTTP: the same resolution and heartbeat (authentication
 * included) called on the service layer in this process, `concurrency` calls in flight. This is
 * the capacity a faster HTTP front or more processes could reach; the HTTP figures show what one
 * process delivers end to end on this machine.
 */
import { silentLogger } from '../common/logger.js';
import { NameService } from '../names/service/name-service.js';
import type { NameStore } from '../names/store/name-store.js';
import type { LoadResult } from './names-load.js';

export async function loopInProcess(durationMs: number, concurrency: number, call: (i: number) => Promise<unknown>): Promise<LoadResult> {
  const samples: number[] = [];
  let errors = 0;
  let next = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await call(next++);
      } catch {
        errors++;
      }
      if (samples.length < 5_000_000) samples.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? 0;
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return { requests: samples.length, errors, seconds: r3(seconds), perSecond: Math.round(samples.length / seconds), p50Ms: r3(pct(0.5)), p99Ms: r3(pct(0.99)), maxMs: r3(pct(1)) };
}

export async function measureInProcess(
  store: NameStore,
  opts: { count: number; durationMs: number; concurrency: number; serviceKey: string; did: (i: number) => string; token: (i: number) => string },
): Promise<{ resolve: LoadResult; heartbeat: LoadResult }> {
  const svc = new NameService(store, { serviceKey: opts.serviceKey }, { log: silentLogger });
  const rnd = () => Math.floor(Math.random() * opts.count);
  const resolve = await loopInProcess(opts.durationMs, opts.concurrency, async () => {
    const p = svc.accounts.authenticateService(opts.serviceKey);
    return svc.presence.resolve(p, opts.did(rnd()));
  });
  const heartbeat = await loopInProcess(opts.durationMs, opts.concurrency, async (n) => {
    const i = rnd();
    const id = await svc.accounts.verifyDevice(opts.did(i), opts.token(i));
    if (!id) throw new Error('bad token');
    return svc.presence.heartbeat({ kind: 'device', uid: id.uid, did: id.did }, { coa: `198.18.${(n >> 8) & 255}.${n & 255}:4000`, control: null, groupModified: 0 });
  });
  return { resolve, heartbeat };
}
