/**
 * Per-migration figures of the M-TCP netem benchmark and the target check (issue 5: "migration
 * completes within one RTT plus the state-transfer time"). Pure functions.
 *
 * - total: the client's view, migration started (migrate() called; the old socket is dropped in
 *   the same turn) → RESUMED received (`timings.totalMs`).
 * - transfer: measured by the new member (`RESUMED.transfer.ms`): the resume HELLO parsed →
 *   certificate checked, state loaded (lazy: the fetch from the old member over the peer link,
 *   one member RTT + the old member's work; eager fallback: the store and replicas), session
 *   installed, logged input replayed, RESUMED about to be written.
 * - reconnect = total − transfer: the network part of the migration and the processing around the
 *   transfer on both ends (hello/RESUMED encoding and parsing, event-loop turns).
 */
export interface NetemMigration {
  side: string;
  i: number;
  warmup: boolean;
  via: 'standby' | 'connect' | null;
  standbyReady: boolean | null;
  attempts: number;
  totalMs: number;
  transferMs: number | null;
  source: string | null;
  /** A TCP handshake to the target member just before this migration. */
  handshakeMs: number;
  /** A 1-byte request/response to the target member's process just before (TCP_RR). */
  echoMs: number;
  cid: string;
  /** CLOCK_MONOTONIC (ms) around `migrate()` in the client. */
  startMono: number;
  endMono: number;
  /** The new member's RESUMED written (CLOCK_MONOTONIC, ms), matched by cid and time. */
  resumedMono?: number;
}

/**
 * Splits each reconnect into the hello's way to the member (migrate() called → HELLO parsed there,
 * i.e. RESUMED written − transfer) and RESUMED's way back (written → migrate() resolved). Each is
 * half an RTT plus the processing on that way.
 */
export function matchMemberResumes(ms: NetemMigration[], resumed: Array<{ cid: string; mono: number }>): void {
  for (const m of ms) {
    const hit = resumed.find((e) => e.cid === m.cid && e.mono >= m.startMono && e.mono <= m.endMono);
    if (hit) m.resumedMono = hit.mono;
  }
}

export const quantile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const pp = (xs: number[]): { p50: number; p99: number; max: number } => ({ p50: r3(quantile(xs, 0.5)), p99: r3(quantile(xs, 0.99)), max: r3(Math.max(...xs)) });

function legs(ms: NetemMigration[]): Record<string, unknown> {
  const both = ms.filter((m) => m.resumedMono !== undefined && m.transferMs !== null);
  if (both.length === 0) return {};
  return {
    helloWayMs: pp(both.map((m) => m.resumedMono! - m.transferMs! - m.startMono)),
    resumedWayMs: pp(both.map((m) => m.endMono - m.resumedMono!)),
  };
}

/**
 * One side (with or without the standby) of one run. `rttMs` is the configured client ↔ member
 * RTT; `handshakeRttMs` the TCP handshake on that path measured idle in the same run (the
 * configured RTT plus the emulator's own cost, docs/netem.md); `echoRttMs` a 1-byte request/
 * response with the member's process over an established connection (netperf's TCP_RR), idle.
 * Target: reconnect p50 and p99 ≤ RTT + `allowanceMs`, checked against each of the three.
 */
export function summarizeNetemSide(ms: NetemMigration[], rttMs: number, handshakeRttMs: number, echoRttMs: number, allowanceMs: number): Record<string, unknown> {
  const total = ms.map((m) => m.totalMs);
  const transfer = ms.map((m) => m.transferMs ?? NaN);
  const reconnect = ms.map((m, i) => total[i]! - transfer[i]!);
  const check = (base: number): Record<string, unknown> => ({
    limitMs: r3(base + allowanceMs), p50Pass: rec50 <= base + allowanceMs, p99Pass: rec99 <= base + allowanceMs,
    shareWithin: r3(reconnect.filter((x) => x <= base + allowanceMs).length / ms.length),
  });
  const rec50 = quantile(reconnect, 0.5);
  const rec99 = quantile(reconnect, 0.99);
  const sources: Record<string, number> = {};
  for (const m of ms) sources[m.source ?? 'none'] = (sources[m.source ?? 'none'] ?? 0) + 1;
  return {
    migrations: ms.length,
    viaStandbyShare: r3(ms.filter((m) => m.via === 'standby').length / ms.length),
    singleAttemptShare: r3(ms.filter((m) => m.attempts === 1).length / ms.length),
    transferSources: sources,
    totalMs: pp(total),
    transferMs: pp(transfer),
    reconnectMs: pp(reconnect),
    reconnectOverConfiguredRtt: { p50: r3(rec50 / rttMs), p99: r3(rec99 / rttMs) },
    reconnectOverHandshakeRtt: { p50: r3(rec50 / handshakeRttMs), p99: r3(rec99 / handshakeRttMs) },
    reconnectOverEchoRtt: { p50: r3(rec50 / echoRttMs), p99: r3(rec99 / echoRttMs) },
    /** Per migration, over the request/response RTT measured just before it (same load). */
    reconnectOverProbeEcho: pp(reconnect.map((x, i) => x / ms[i]!.echoMs)),
    probeEchoMs: pp(ms.map((m) => m.echoMs)),
    /** Per migration, over the handshake measured just before it (same load). */
    reconnectOverProbeRtt: pp(reconnect.map((x, i) => x / ms[i]!.handshakeMs)),
    probeHandshakeMs: pp(ms.map((m) => m.handshakeMs)),
    /** migrate() → HELLO parsed by the member; RESUMED written → migrate() resolved (CLOCK_MONOTONIC of both processes). */
    ...legs(ms),
    /** reconnect ≤ one RTT + allowance, with the RTT taken three ways (docs/mtcp.md). */
    target: {
      allowanceMs,
      configuredRtt: check(rttMs),
      handshakeRtt: check(handshakeRttMs),
      echoRtt: check(echoRttMs),
    },
    /** Per migration, in order (ms): the raw figures the quantiles come from. */
    samples: { totalMs: total.map(r3), transferMs: transfer.map(r3), handshakeMs: ms.map((m) => r3(m.handshakeMs)), echoMs: ms.map((m) => r3(m.echoMs)) },
  };
}
