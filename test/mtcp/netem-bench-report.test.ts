import { describe, expect, it } from 'vitest';
import { netemHosts } from '../../src/bench/mtcp-netem.js';
import { matchMemberResumes, quantile, summarizeNetemSide, type NetemMigration } from '../../src/bench/mtcp-netem-report.js';

/** The pure parts of the M-TCP emulated-network benchmark (docs/mtcp.md): topology and figures. */
const rttBetween = (a: { upDelayMs?: number; downDelayMs?: number; delayMs?: number }, b: typeof a): number =>
  (a.upDelayMs ?? a.delayMs ?? 0) + (b.downDelayMs ?? b.delayMs ?? 0) + (b.upDelayMs ?? b.delayMs ?? 0) + (a.downDelayMs ?? a.delayMs ?? 0);

function migration(i: number, totalMs: number, transferMs: number, handshakeMs = 10): NetemMigration {
  return { side: 'withStandby', i, warmup: false, via: 'standby', standbyReady: true, attempts: 1, totalMs, transferMs, source: 'peer', handshakeMs, echoMs: handshakeMs, cid: `c${i % 2}`, startMono: 1000 * i, endMono: 1000 * i + totalMs };
}

describe('M-TCP netem bench: topology', () => {
  it('sets the client ↔ member and member ↔ member RTTs independently in the star', () => {
    for (const p of [{ clientRttMs: 10, memberRttMs: 2 }, { clientRttMs: 40, memberRttMs: 2 }, { clientRttMs: 10, memberRttMs: 10 }]) {
      const hosts = netemHosts(p);
      const link = (n: string) => hosts.find((h) => h.name === n)!.link!;
      expect(rttBetween(link('client'), link('m1'))).toBeCloseTo(p.clientRttMs, 9);
      expect(rttBetween(link('m2'), link('m3'))).toBeCloseTo(p.memberRttMs, 9);
    }
    expect(() => netemHosts({ clientRttMs: 2, memberRttMs: 10 })).toThrow();
  });
});

describe('M-TCP netem bench: figures', () => {
  it('reconnect = total − transfer, checked against RTT + allowance at p50 and p99', () => {
    // 100 migrations: reconnect 10.5 ms for 98 of them, 15 ms for the last two.
    const ms = Array.from({ length: 100 }, (_, i) => migration(i, (i >= 98 ? 15 : 10.5) + 3, 3));
    const s = summarizeNetemSide(ms, 10, 10, 10, 1) as { reconnectMs: { p50: number; p99: number }; target: { configuredRtt: { p50Pass: boolean; p99Pass: boolean; shareWithin: number } } };
    expect(s.reconnectMs.p50).toBeCloseTo(10.5, 6);
    expect(s.reconnectMs.p99).toBeCloseTo(15, 6);
    expect(s.target.configuredRtt).toMatchObject({ p50Pass: true, p99Pass: false, shareWithin: 0.98 });
    // A tighter allowance fails the median too.
    const tight = summarizeNetemSide(ms, 10, 10, 10, 0.4) as typeof s;
    expect(tight.target.configuredRtt.p50Pass).toBe(false);
    expect(quantile([3, 1, 2], 0.5)).toBe(2);
  });

  it('matches each migration with the member event of the same connection inside its time window', () => {
    const ms = [migration(0, 20, 5), migration(1, 20, 5), migration(2, 20, 5)];
    matchMemberResumes(ms, [{ cid: 'c0', mono: 2015 }, { cid: 'c1', mono: 1012 }, { cid: 'c0', mono: 12 }, { cid: 'c0', mono: 500 }]);
    expect(ms.map((m) => m.resumedMono)).toEqual([12, 1012, 2015]);
    const s = summarizeNetemSide(ms, 10, 10, 10, 1) as { helloWayMs: { p50: number }; resumedWayMs: { p50: number } };
    // hello way = RESUMED written − transfer − start: 12 − 5 − 0 = 7; way back = end − written: 20 − 12 = 8.
    expect(s.helloWayMs.p50).toBeCloseTo(7, 6);
    expect(s.resumedWayMs.p50).toBeCloseTo(8, 6);
  });
});
