import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonLinesClient } from './json-lines.js';
import type { BulkResult } from './load-bulk.js';
import type { RateResult } from './load-rate.js';
import { median, round } from './stats.js';
import { TARGET_KINDS, type Target, type TargetKind } from './targets.js';

/** One figure measured for every relay: each round's value, the medians, and ratios to haproxy. */
export interface RelayFigure {
  unit: string;
  rounds: Record<TargetKind, number[]>;
  median: Record<TargetKind, number>;
  /** median(x) / median(haproxy). */
  ratioToHaproxy: { direct: number; tsmp: number };
  /** Median over rounds of tsmp/haproxy within the round: less sensitive to drifting load. */
  pairedRatioTsmp: number;
  /** Failed connections during the figure, per relay (connection rate only). */
  errors?: Record<TargetKind, number>;
  /** Connections that did not close after the client's FIN within the bound (bulk only; must be 0). */
  unclosed?: Record<TargetKind, number>;
}

const SETTLE_MS = 200;

/**
 * Runs `measure` for every relay, `repeats` rounds, interleaved (and rotated so that no relay
 * always goes first): on a shared, noisy machine each round's three values saw the same load.
 */
async function rounds(repeats: number, measure: (kind: TargetKind) => Promise<number>): Promise<Record<TargetKind, number[]>> {
  const out: Record<TargetKind, number[]> = { direct: [], haproxy: [], tsmp: [] };
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < TARGET_KINDS.length; i++) {
      const kind = TARGET_KINDS[(r + i) % TARGET_KINDS.length]!;
      out[kind].push(await measure(kind));
      await sleep(SETTLE_MS); // let closed sockets leave before the next relay starts
    }
  }
  return out;
}

function figure(unit: string, values: Record<TargetKind, number[]>): RelayFigure {
  const med = { direct: median(values.direct), haproxy: median(values.haproxy), tsmp: median(values.tsmp) };
  const paired = values.tsmp.map((v, i) => v / values.haproxy[i]!);
  return {
    unit,
    rounds: values,
    median: med,
    ratioToHaproxy: { direct: round(med.direct / med.haproxy), tsmp: round(med.tsmp / med.haproxy) },
    pairedRatioTsmp: round(median(paired)),
  };
}

export interface RelayRunContext {
  load: JsonLinesClient;
  targets: Record<TargetKind, Target>;
  repeats: number;
  timeoutMs: number;
}

/** Bulk throughput in bytes/s over `connections` concurrent connections. */
export async function measureBulk(
  ctx: RelayRunContext,
  opts: { connections: number; warmupMs: number; durationMs: number },
): Promise<RelayFigure> {
  const unclosed: Record<TargetKind, number> = { direct: 0, haproxy: 0, tsmp: 0 };
  const values = await rounds(ctx.repeats, async (kind) => {
    const r = await ctx.load.call<BulkResult>(
      'bulk',
      { target: ctx.targets[kind], ...opts, dialTimeoutMs: ctx.timeoutMs },
      opts.warmupMs + opts.durationMs + 3 * ctx.timeoutMs,
    );
    unclosed[kind] += r.unclosed;
    return r.bytesPerSecond;
  });
  return { ...figure('bytes/s', values), unclosed };
}

/** Connections per second (connect, handshake, 32-byte request/response, close). */
export async function measureRate(ctx: RelayRunContext, opts: { concurrency: number; durationMs: number }): Promise<RelayFigure> {
  const errors: Record<TargetKind, number> = { direct: 0, haproxy: 0, tsmp: 0 };
  const values = await rounds(ctx.repeats, async (kind) => {
    const r = await ctx.load.call<RateResult>(
      'rate',
      { target: ctx.targets[kind], ...opts, timeoutMs: ctx.timeoutMs },
      opts.durationMs + 2 * ctx.timeoutMs,
    );
    errors[kind] += r.errors;
    return r.perSecond;
  });
  return { ...figure('connections/s', values), errors };
}
