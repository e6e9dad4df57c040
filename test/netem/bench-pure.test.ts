import { describe, expect, it } from 'vitest';
import { parseProcNetCounters, parseSsInfo, tcpDelta } from '../../src/bench/paper/tcp-state.js';
import { migrationLowerBound } from '../../src/bench/paper/lower-bound.js';
import { niceTicks, renderSvg } from '../../src/bench/paper/svg-plot.js';
import { checkSplitStream } from '../../src/bench/paper/scenarios.js';
import { linkAddresses, inNetemBlock } from '../../src/netem/addressing.js';
import { resolveLink, tbfArgs } from '../../src/netem/link-spec.js';
import { newRunNames, ownerPid, tunName } from '../../src/netem/run-names.js';

describe('bench and netem pure parts', () => {
  it('parses /proc/net counter pairs', () => {
    const c = parseProcNetCounters('TcpExt: SyncookiesSent TCPTimeouts\nTcpExt: 0 3\nTcp: RtoAlgorithm RetransSegs\nTcp: 1 17\n');
    expect(c.get('TcpExt.TCPTimeouts')).toBe(3);
    expect(c.get('Tcp.RetransSegs')).toBe(17);
  });

  it('parses ss -tin socket and info lines for one peer only', () => {
    const text = [
      'ESTAB 0 120 198.18.1.2:40000 198.18.2.2:51000',
      '\t cubic wscale:7,7 rto:204 rtt:2.1/0.5 cwnd:10 ssthresh:82 bytes_acked:800103 retrans:0/2',
      'TIME-WAIT 0 0 198.18.1.2:40002 198.18.2.2:51002',
      'ESTAB 0 0 198.18.1.2:40001 198.18.9.2:51001',
      '\t cubic cwnd:44 bytes_acked:5',
    ].join('\n');
    const s = parseSsInfo(text, '198.18.2.2');
    expect(s).toEqual([{ state: 'ESTAB', ssthresh: 82, cwnd: 10, bytesAcked: 800103, retrans: '0/2' }]);
    const d = tcpDelta({ rtos: 1, retransSegs: 5, lossProbes: 0, sockets: s }, { rtos: 1, retransSegs: 7, lossProbes: 0, sockets: [] });
    expect(d).toEqual({ rtos: 0, retransSegs: 2, lossProbes: 0, ssthreshBefore: 82, ssthreshAfter: null, socketAfter: false });
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
