import { describe, expect, it } from 'vitest';
import { counterDelta, parseProcNetCounters, tcpChange } from '../../src/bench/paper/tcp-state.js';
import { migrationLowerBound } from '../../src/bench/paper/lower-bound.js';
import { niceTicks, renderSvg } from '../../src/bench/paper/svg-plot.js';
import { checkSplitStream } from '../../src/bench/paper/scenarios.js';
import { linkAddresses, inNetemBlock } from '../../src/netem/addressing.js';
import { resolveLink, tbfArgs } from '../../src/netem/link-spec.js';
import { bypassRules } from '../../src/netem/topology.js';
import { newRunNames, ownerPid, tunName } from '../../src/netem/run-names.js';

describe('bench and netem pure parts', () => {
  it('parses /proc/net counter pairs', () => {
    const c = parseProcNetCounters('TcpExt: SyncookiesSent TCPTimeouts\nTcpExt: 0 3\nTcp: RtoAlgorithm RetransSegs\nTcp: 1 17\n');
    expect(c.get('TcpExt.TCPTimeouts')).toBe(3);
    expect(c.get('Tcp.RetransSegs')).toBe(17);
  });

  it('reports the server\'s TCP change from counters and her own socket samples', () => {
    const sample = (t: number, open: boolean, ssthresh: number | null) => ({ t, open, ssthresh, cwnd: 10, totalRetrans: 0, bytesAcked: 0, rttUs: 2000 });
    const before = { counters: { 'TcpExt.TCPTimeouts': 1, 'Tcp.RetransSegs': 5, 'TcpExt.TCPLossProbes': 0 }, sample: sample(1000, true, 82) };
    const after = { counters: { 'TcpExt.TCPTimeouts': 1, 'Tcp.RetransSegs': 7, 'TcpExt.TCPLossProbes': 2 }, sample: sample(2500, false, 82) };
    const d = tcpChange(before, after, { 'TcpExt.TCPRcvQDrop': 3 }, { 'TcpExt.TCPRcvQDrop': 5 }, 2000);
    expect(d).toEqual({
      rtos: 0, retransSegs: 2, lossProbes: 2, ssthreshBefore: 82, ssthreshAfter: 82, socketAfter: false, afterMs: 500,
      server: { 'Tcp.RetransSegs': 2, TCPLossProbes: 2 }, proxy: { TCPRcvQDrop: 2 },
    });
    expect(counterDelta({ a: 1 }, { a: 1, b: 0 })).toEqual({});
  });

  it('routes only undelayed, lossless paths around the forwarder', () => {
    const link = (d: number, loss = 0) => ({ upDelayMs: d, downDelayMs: d, upLoss: loss, downLoss: loss });
    const h = (name: string, n: number, l: ReturnType<typeof link>) => ({ routerDev: `r-${name}`, address: `198.18.${n}.2`, addresses: { prefixLength: 24 }, link: l });
    const rules = bypassRules([h('proxy', 1, link(0)), h('bgc', 2, link(0)), h('old', 3, link(19)), h('lossy', 4, link(0, 0.01))]);
    expect(rules).toEqual([
      'rule add iif r-proxy to 198.18.2.2/32 lookup main pref 90',
      'rule add iif r-bgc to 198.18.1.2/32 lookup main pref 90',
    ]);
  });

  it('adds the lower bound up from link delays and the cached bytes', () => {
    const wlan = { upMs: 19, downMs: 19, rateKbit: 1000 };
    const umts = { upMs: 370, downMs: 370, rateKbit: 1000 };
    const b = migrationLowerBound(umts, wlan, 12_500);
    expect(b).toEqual({ requestMs: 370, notifyMs: 19, handshakeMs: 38, negotiationMs: 19, flushMs: 100, signallingMs: 446, totalMs: 546 });
  });

  it('places the seam between two devices\' streams', () => {
    const all = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919 + (i >> 3)) & 0xff));
    expect(checkSplitStream(all.subarray(0, 1000), all.subarray(1000), all)).toEqual({ intact: true, seamBytes: 0 });
    expect(checkSplitStream(all.subarray(0, 1000), all.subarray(900), all)).toEqual({ intact: false, seamBytes: -100 });
    expect(checkSplitStream(all.subarray(0, 1000), all.subarray(1200), all)).toEqual({ intact: false, seamBytes: 200 });
  });

  it('draws an SVG with one polyline per series and nice ticks', () => {
    expect(niceTicks(0, 1000, 5)).toEqual([0, 200, 400, 600, 800, 1000]);
    const svg = renderSvg({ title: 'a<b', xLabel: 'x', yLabel: 'y', xLog: true, series: [
      { name: 'm', color: 'red', points: [[10, 100], [1000, 120]] },
      { name: 'b', color: 'green', dashed: true, points: [[10, 90], [1000, 90]] },
    ] });
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('stroke-dasharray');
  });

  it('plans addresses, links and names inside 198.18.0.0/15', () => {
    expect(linkAddresses(0)).toMatchObject({ router: '198.18.1.1', host: '198.18.1.2' });
    expect(linkAddresses(300).host).toBe('198.19.45.2');
    expect(inNetemBlock(linkAddresses(510).host)).toBe(true);
    expect(inNetemBlock('198.20.0.1')).toBe(false);
    expect(() => linkAddresses(511)).toThrow();
    expect(resolveLink({ delayMs: 19, upRateKbit: 500 })).toMatchObject({ upDelayMs: 19, downDelayMs: 19, upRateKbit: 500, downRateKbit: null });
    expect(() => resolveLink({ loss: 1 })).toThrow();
    expect(tbfArgs('eth0', 1000, 75_700)).toEqual(['qdisc', 'replace', 'dev', 'eth0', 'root', 'tbf', 'rate', '1000kbit', 'burst', '3028', 'limit', '75700']);
    const run = newRunNames(4_000_000);
    expect(ownerPid(`${run.prefix}alice`)).toBe(4_000_000);
    expect(ownerPid('other-ns')).toBeNull();
    expect(tunName(run).length).toBeLessThanOrEqual(15);
  });
});
