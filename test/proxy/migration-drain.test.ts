import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, did, startProxy, TOKENS, until, type Harness } from '../support/proxy-harness.js';
import { socksConnect } from '../support/socks-client.js';
import { expectedHash, startStreamServer, type StreamServer } from '../support/stream-server.js';

let harness: Harness | undefined;
let server: StreamServer | undefined;
let timer: NodeJS.Timeout | undefined;
afterEach(async () => {
  clearInterval(timer);
  await harness?.close();
  await server?.close();
  harness = server = timer = undefined;
});

/** Paused old device, a migration, then the new device connects: the attach has to wait. */
async function migrateWhileOldIsBacklogged(total: number) {
  harness = await startProxy({ drainWaitMs: 300, maxBuffer: 8 * 1024 * 1024 });
  server = await startStreamServer({ total, chunk: 64 * 1024, intervalMs: 0 });
  const a = await socksConnect(harness.port, did('phone'), TOKENS.phone, '127.0.0.1', server.port);
  const gotA = collect(a.socket);
  await until(() => gotA.bytes() > 256 * 1024, 10_000, 'phone to receive 256 KiB');
  // Stop reading: the proxy's send queue and the phone's receive queue fill up, so the old device
  // has bytes in flight when the migration is requested.
  a.socket.pause();
  await new Promise((r) => setTimeout(r, 100));
  const [conn] = (await harness.api('phone', 'GET', '/v1/connections')).json.connections;
  const started = await harness.api('phone', 'POST', `/v1/connections/${conn.id}/migrate`, { to: 'pc' });
  expect(started.status).toBe(202);
  const b = await socksConnect(harness.port, did('pc'), TOKENS.pc, '127.0.0.1', server.port);
  const gotB = collect(b.socket);
  return { a, gotA, gotB, id: started.json.id as string };
}

describe('the old device is let go exactly', () => {
  it('one that keeps acknowledging drains to a FIN: nothing is replayed, nothing arrives twice', async () => {
    const total = 8 * 1024 * 1024;
    const { a, gotA, gotB, id } = await migrateWhileOldIsBacklogged(total);
    // Reads in short bursts: its acknowledged count advances every 50 ms, below the stall time.
    timer = setInterval(() => {
      a.socket.resume();
      setTimeout(() => a.socket.pause(), 3);
    }, 50);
    await gotA.ended;
    clearInterval(timer);
    await gotB.ended;
    const m = (await harness!.api('pc', 'GET', `/v1/migrations/${id}`)).json;
    expect(m.state).toBe('done');
    expect(m.bytesCached).toBeGreaterThan(0);
    expect(m.oldDevice).toBe('fin');
    expect(m.drainOutcome).toBe('drained');
    expect(m.bytesReplayed).toBe(0);
    expect(m.bytesInDoubt).toBe(0);
    expect(m.fromOffset).toBe(gotA.bytes());
    expect(gotA.bytes() + gotB.bytes()).toBe(total);
    const whole = createHash('sha256');
    for (const c of [...gotA.chunks, ...gotB.chunks]) whole.update(c);
    expect(whole.digest('hex')).toBe(expectedHash(0, total));
    // It waited for the old device, at least one burst's worth.
    expect(m.phases.attached - m.phases.targetConnected).toBeGreaterThan(10);
  });

  it('one that stops acknowledging is cut after the stall time, and the record says what is in doubt', async () => {
    const total = 8 * 1024 * 1024;
    const { a, gotA, gotB, id } = await migrateWhileOldIsBacklogged(total);
    await gotB.ended;
    a.socket.destroy();
    const m = (await harness!.api('pc', 'GET', `/v1/migrations/${id}`)).json;
    expect(m.state).toBe('done');
    expect(m.oldDevice).toBe('reset');
    expect(m.drainOutcome).toBe('stalled');
    expect(m.phases.attached - m.phases.targetConnected).toBeGreaterThanOrEqual(290);
    expect(typeof m.bytesInDoubt).toBe('number');
    expect(m.bytesReplayed).toBeGreaterThan(0);
    // The new device gets exactly the suffix from the old device's acknowledged offset.
    expect(gotB.bytes()).toBe(total - m.fromOffset);
    expect(gotB.hash()).toBe(expectedHash(m.fromOffset, total));
    // What the paused old device had acknowledged is in its kernel; it may read it up to there.
    expect(gotA.bytes()).toBeLessThanOrEqual(m.fromOffset);
  });
});
