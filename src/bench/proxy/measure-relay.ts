import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonLinesClient } from './json-lines.js';
import type { BulkResult } from './load-bulk.js';
import type { RateResult } from './load-rate.js';
import { median, round } from './stats.js';
import { RELAY_KINDS, type RelayKind, type Target, type TargetKind } from './targets.js';

/** Per-path values: the three judged paths always, the `pipe` reference when it was measured. */
export type PerPath<T> = Record<TargetKind, T> & { pipe?: T };

/** One figure measured for every relay: each round's value, the medians, and ratios to haproxy. */
export interface RelayFigure {
  unit: string;
  rounds: PerPath<number[]>;
  median: PerPath<number>;
  /** median(x) / median(haproxy). `pipe` is a reference (a plain Node pipe relay), not a target. */
  ratioToHaproxy: { direct: number; tsmp: number; pipe?: number };
  /** Median over rounds of tsmp/haproxy within the round: less sensitive to drifting load. */
  pairedRatioTsmp: number;
  /** Connection rate only: the uncounted warm-up round's value per path (the cold figure), and its length. */
  warmup?: { durationMs: number; perSecond: PerPath<number> };
  /** Failed connections during the figure, per relay (connection rate only). */
  errors?: PerPath<number>;
  /** Connections that did not close after the client's FIN within the bound (bulk only; must be 0). */
  unclosed?: PerPath<number>;
}

const SETTLE_MS = 200;

/**
 * Runs `measure` for every relay, `repeats` rounds, interleaved (and rotated so that no relay
 * always goes first): on a shared, noisy machine each round's three values saw the same load.
 */
async function rounds(
  repeats: number,
  kinds: readonly RelayKind[],
  measure: (kind: RelayKind) => Promise<number>,
): Promise<PerPath<number[]>> {
  const out: PerPath<number[]> = { direct: [], haproxy: [], tsmp: [] };
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < kinds.length; i++) {
      const kind = kinds[(r + i) % kinds.length]!;
      (out[kind] ??= []).push(await measure(kind));
      await sleep(SETTLE_MS); // let closed sockets leave before the next relay starts
    }
  }
  return out;
}

function figure(unit: string, values: PerPath<number[]>): RelayFigure {
  const med: PerPath<number> = { direct: median(values.direct), haproxy: median(values.haproxy), tsmp: median(values.tsmp) };
  const ratio: RelayFigure['ratioToHaproxy'] = { direct: round(med.direct / med.haproxy), tsmp: round(med.tsmp / med.haproxy) };
  if (values.pipe) {
    med.pipe = median(values.pipe);
    ratio.pipe = round(med.pipe / med.haproxy);
  }
  const paired = values.tsmp.map((v, i) => v / values.haproxy[i]!);
  return { unit, rounds: values, median: med, ratioToHaproxy: ratio, pairedRatioTsmp: round(median(paired)) };
}

export interface RelayRunContext {
  load: JsonLinesClient;
  /** The judged paths, and the `pipe` reference relay when there is one. */
  targets: PerPath<Target>;
  repeats: number;
  timeoutMs: number;
}

/** Bulk throughput in bytes/s over `connections` concurrent connections. */
export async function measureBulk(
  ctx: RelayRunContext,
  opts: { connections: number; warmupMs: number; durationMs: number },
): Promise<RelayFigure> {
  const unclosed: PerPath<number> = { direct: 0, haproxy: 0, tsmp: 0 };
  const values = await rounds(ctx.repeats, kindsOf(ctx), async (kind) => {
    const r = await ctx.load.call<BulkResult>(
      'bulk',
      { target: ctx.targets[kind], ...opts, dialTimeoutMs: ctx.timeoutMs },
      opts.warmupMs + opts.durationMs + 3 * ctx.timeoutMs,
    );
    unclosed[kind] = (unclosed[kind] ?? 0) + r.unclosed;
    return r.bytesPerSecond;
  });
  return { ...figure('bytes/s', values), unclosed };
}

/**
 * Connections per second (connect, handshake, 32-byte request/response, close), after one
 * uncounted round of `warmupMs` per path (its value is kept as the cold figure).
 */
export async function measureRate(ctx: RelayRunContext, opts: { concurrency: number; durationMs: number; warmupMs: number }): Promise<RelayFigure> {
  const errors: PerPath<number> = { direct: 0, haproxy: 0, tsmp: 0 };
  const once = async (kind: RelayKind, durationMs: number): Promise<RateResult> =>
    ctx.load.call<RateResult>(
      'rate',
      { target: ctx.targets[kind], concurrency: opts.concurrency, durationMs, timeoutMs: ctx.timeoutMs },
      durationMs + 2 * ctx.timeoutMs,
    );
  const cold: PerPath<number> = { direct: 0, haproxy: 0, tsmp: 0 };
  if (opts.warmupMs > 0) {
    for (const kind of kindsOf(ctx)) {
      cold[kind] = round((await once(kind, opts.warmupMs)).perSecond);
      await sleep(SETTLE_MS);
    }
  }
  const values = await rounds(ctx.repeats, kindsOf(ctx), async (kind) => {
    const r = await once(kind, opts.durationMs);
    errors[kind] = (errors[kind] ?? 0) + r.errors;
    return r.perSecond;
  });
  return { ...figure('connections/s', values), errors, ...(opts.warmupMs > 0 ? { warmup: { durationMs: opts.warmupMs, perSecond: cold } } : {}) };
}

function kindsOf(ctx: RelayRunContext): RelayKind[] {
  return RELAY_KINDS.filter((k) => ctx.targets[k] !== undefined);
}
