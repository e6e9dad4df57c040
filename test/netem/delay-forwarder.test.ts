import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology } from '../../src/netem/topology.js';
import { download, measureConnectRtt, startProbeServer, upload } from '../../src/netem/probes.js';
import { payloadSha256 } from '../../src/netem/probe-scripts.js';
import { median, netemSkipReason } from './netem-support.js';

const skip = await netemSkipReason('test/netem/delay-forwarder.test.ts');

/**
 * Stated tolerance of the forwarder (docs/netem.md): the fastest TCP connect is within
 * −0.5 / +3 ms of the configured RTT (the forwarder never releases early; the TUN path adds
 * ~0.2 ms per crossing; +1.5 ms was exceeded once, by 0.1 ms, while the whole suite ran on the
 * same 2 cores), and the median within +5 ms or +2 %, whichever is more: the probes
 * are ordinary processes, and on a loaded 2-core machine their wake-ups add milliseconds that are
 * not the link's. Goodput over
 * a rate-limited link is 85–100 % of the configured rate (headers take ~4.5 %).
 */
const RTT_SLACK_BELOW_MS = 0.5;
const RTT_SLACK_ABOVE_MS = 3;
const MEDIAN_SLACK_ABOVE_MS = 5;

function expectRtt(samples: number[], configured: number): void {
  expect(Math.min(...samples)).toBeGreaterThan(configured - RTT_SLACK_BELOW_MS);
  expect(Math.min(...samples)).toBeLessThan(configured + RTT_SLACK_ABOVE_MS);
  expect(median(samples)).toBeLessThan(configured + Math.max(MEDIAN_SLACK_ABOVE_MS, configured * 0.02));
}

describe.skipIf(skip !== null)('delay forwarder over TUN', () => {
  let topo: Topology;
  let port: number;

  beforeAll(async () => {
    topo = await Topology.create({
      hosts: [
        // The paper's WLAN device link: RTT 38 ms to the proxy, 1 Mbit/s.
        { name: 'wlan', link: { delayMs: 19, rateKbit: 1000 } },
        // The paper's 3G device link: RTT 740 ms.
        { name: 'umts', link: { delayMs: 370, rateKbit: 1000 } },
        { name: 'lossy', link: { delayMs: 2, rateKbit: 20_000, loss: 0.02 } },
        { name: 'fast', link: { delayMs: 2, rateKbit: 20_000 } },
        { name: 'proxy' },
      ],
    });
    ({ port } = await startProbeServer(topo, 'proxy'));
  });
  afterAll(() => topo?.down());

  it('gives the WLAN link its 38 ms RTT', async () => {
    expectRtt((await measureConnectRtt(topo, 'wlan', 'proxy', port, 25)).slice(3), 38);
  });

  it('gives the 3G link its 740 ms RTT', async () => {
    expectRtt((await measureConnectRtt(topo, 'umts', 'proxy', port, 5)).slice(1), 740);
  });

  it('limits the WLAN link to 1 Mbit/s and passes the bytes intact', async () => {
    const n = 150_000;
    const d = await download(topo, 'wlan', 'proxy', port, n, 'rate');
    expect(d.bytes).toBe(n);
    expect(d.sha256).toBe(payloadSha256('rate', n));
    // Second half only: past slow start, the rate is the limiter's.
    const kbit = ((n / 2) * 8) / (d.lastByteMs - d.halfByteMs);
    expect(kbit).toBeGreaterThan(850);
    expect(kbit).toBeLessThan(1000);
  });

  it('refuses a probe seed that would not survive the request line', async () => {
    await expect(download(topo, 'fast', 'proxy', port, 10, 'two words')).rejects.toThrow(/seed/);
  });

  it('carries 2 MB each way intact, in order, over a delayed link', async () => {
    const n = 2_000_000;
    const [down, up] = await Promise.all([
      download(topo, 'fast', 'proxy', port, n, 'down'),
      upload(topo, 'fast', 'proxy', port, n, 'up'),
    ]);
    expect(down.sha256).toBe(payloadSha256('down', n));
    expect(up.bytes).toBe(n);
    expect(up.sha256).toBe(payloadSha256('up', n));
  });

  it('drops packets on a lossy link while TCP still delivers every byte', async () => {
    const before = topo.forwarderStats()!.droppedLoss;
    const n = 1_000_000;
    const d = await download(topo, 'lossy', 'proxy', port, n, 'loss');
    expect(d.sha256).toBe(payloadSha256('loss', n));
    const stats = topo.forwarderStats()!;
    expect(stats.droppedLoss - before).toBeGreaterThan(5);
    expect(stats.droppedOverflow).toBe(0);
    expect(stats.writeErrors).toBe(0);
  });
});
