import { Topology } from './topology.js';
import { download, measureConnectRtt, startProbeServer } from './probes.js';
import { payloadSha256 } from './probe-scripts.js';
import type { ForwarderStats } from './delay-forwarder.js';

/** Goodput a TCP bulk transfer can reach over an Ethernet link: 1448 payload bytes per 1514-byte frame (timestamps on). */
export const TCP_GOODPUT_FRACTION = 1448 / 1514;

export interface RttAccuracy {
  label: string;
  configuredMs: number;
  samples: number;
  minMs: number;
  medianMs: number;
  p90Ms: number;
  /** median − configured */
  errorMs: number;
  errorPct: number;
}

export interface RateAccuracy {
  label: string;
  configuredKbit: number;
  expectedGoodputKbit: number;
  measuredKbit: number;
  /** measured ÷ expected goodput − 1 */
  errorPct: number;
  intact: boolean;
}

export interface AccuracyReport {
  rtt: RttAccuracy[];
  rate: RateAccuracy[];
  forwarder: ForwarderStats | null;
}

function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/**
 * Measures the emulated links against their configuration, on the paper's settings (section
 * VI): WLAN RTT 38 ms and 3G RTT 740 ms device links at 1 Mbit/s, and the 1 ms proxy–server
 * link. RTT is the TCP connect time (SYN → SYN/ACK) from a probe process; rate is the goodput of
 * a bulk download, compared with what TCP can carry over the configured rate.
 */
export async function measureAccuracy(opts: { quick?: boolean } = {}): Promise<AccuracyReport> {
  const topo = await Topology.create({
    hosts: [
      { name: 'wlan', link: { delayMs: 19, rateKbit: 1000 } },
      { name: 'wlanslow', link: { delayMs: 19, rateKbit: 200 } },
      { name: 'wlanfast', link: { delayMs: 19, rateKbit: 1200 } },
      { name: 'umts', link: { delayMs: 370, rateKbit: 1000 } },
      { name: 'server', link: { delayMs: 1, rateKbit: 1_000_000 } },
      { name: 'proxy' },
    ],
  });
  try {
    const { port } = await startProbeServer(topo, 'proxy');
    const rtt: RttAccuracy[] = [];
    const cases: [string, string, number, number][] = [
      ['WLAN device ↔ proxy', 'wlan', 38, opts.quick ? 15 : 100],
      ['3G device ↔ proxy', 'umts', 740, opts.quick ? 3 : 15],
      ['server ↔ proxy', 'server', 2, opts.quick ? 20 : 100],
    ];
    for (const [label, host, configuredMs, n] of cases) {
      // The first connects warm up Node and fill the ARP caches; they are not the link's delay.
      const samples = (await measureConnectRtt(topo, host, 'proxy', port, n + 2, 120_000)).slice(2);
      const med = quantile(samples, 0.5);
      rtt.push({
        label, configuredMs, samples: samples.length, minMs: Math.min(...samples), medianMs: med,
        p90Ms: quantile(samples, 0.9), errorMs: med - configuredMs, errorPct: ((med - configuredMs) / configuredMs) * 100,
      });
    }
    const rate: RateAccuracy[] = [];
    // The rate limiter is the same TBF on every link; WLAN's short RTT gets past slow start
    // quickly, and the rate is taken over the second half of the transfer only.
    const rates: [string, string, number][] = opts.quick
      ? [['WLAN 1 Mbit/s, server → device', 'wlan', 1000]]
      : [['WLAN 200 kbit/s, server → device', 'wlanslow', 200], ['WLAN 1 Mbit/s, server → device', 'wlan', 1000],
        ['WLAN 1.2 Mbit/s, server → device', 'wlanfast', 1200], ['3G 1 Mbit/s, server → device', 'umts', 1000]];
    for (const [label, host, kbit] of rates) {
      // Long enough for 2 s of steady state (3G: 4 s, past a slow start of ~5 RTTs).
      const bytes = Math.round((kbit * 1000 / 8) * (host === 'umts' ? 8 : 4));
      const d = await download(topo, host, 'proxy', port, bytes, `rate-${host}`, 120_000);
      const measuredKbit = ((d.bytes / 2) * 8) / (d.lastByteMs - d.halfByteMs);
      const expected = kbit * TCP_GOODPUT_FRACTION;
      rate.push({
        label, configuredKbit: kbit, expectedGoodputKbit: expected, measuredKbit,
        errorPct: (measuredKbit / expected - 1) * 100, intact: d.sha256 === payloadSha256(`rate-${host}`, bytes),
      });
    }
    return { rtt, rate, forwarder: topo.forwarderStats() };
  } finally {
    topo.down();
  }
}

const f = (x: number, d = 2): string => x.toFixed(d);

export function accuracyMarkdown(r: AccuracyReport): string {
  const lines = [
    '| link | configured RTT (ms) | samples | min | median | p90 | median error |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.rtt.map((x) => `| ${x.label} | ${x.configuredMs} | ${x.samples} | ${f(x.minMs)} | ${f(x.medianMs)} | ${f(x.p90Ms)} | ${x.errorMs >= 0 ? '+' : ''}${f(x.errorMs)} ms (${f(x.errorPct, 1)} %) |`),
    '',
    '| link | configured (kbit/s) | TCP goodput possible | measured (2nd half of the transfer) | error | bytes intact |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...r.rate.map((x) => `| ${x.label} | ${x.configuredKbit} | ${f(x.expectedGoodputKbit, 0)} | ${f(x.measuredKbit, 0)} | ${f(x.errorPct, 1)} % | ${x.intact ? 'yes (SHA-256)' : '**NO**'} |`),
  ];
  if (r.forwarder) {
    const l = r.forwarder.lateness;
    lines.push('', `Forwarder: ${r.forwarder.packetsIn} packets, release lateness mean ${f(l.mean, 3)} ms, max ${f(l.max, 3)} ms; ` +
      `${r.forwarder.droppedOverflow} overflow drops; real-time thread: ${r.forwarder.realtime ? 'yes' : 'no'}.`);
  }
  return lines.join('\n') + '\n';
}
