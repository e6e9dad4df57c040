import type { MigrationFigure } from './measure-migration.js';
import type { RelayFigure } from './measure-relay.js';

type Maybe<T> = T | { error: string };

export interface TargetCheck {
  name: string;
  /** The measured value (a ratio to haproxy, or milliseconds). */
  value: number | null;
  goal: string;
  pass: boolean;
}

/** A migration figure counts only if every migration completed and every byte was right. */
const sound = (m: MigrationFigure | null): boolean => m !== null && m.failed === 0 && m.wrongBytes === 0 && m.offsetMismatches === 0;

const ok = <T extends object>(v: Maybe<T> | undefined): v is T => v !== undefined && !('error' in v);

/**
 * The targets, judged on this run's figures (pass/fail is reported, never fatal).
 * Throughput and rate are judged on the ratio of medians to the haproxy measured alongside.
 */
export function evaluateTargets(r: {
  throughput: Record<string, Maybe<RelayFigure>>;
  connectionRate: Maybe<RelayFigure>;
  migration: Maybe<MigrationFigure>;
}): TargetCheck[] {
  const ratio = (name: string, fig: Maybe<RelayFigure> | undefined, min: number): TargetCheck => {
    const value = ok(fig) ? fig.ratioToHaproxy.tsmp : null;
    return { name, value, goal: `≥ ${min}× haproxy`, pass: value !== null && value >= min };
  };
  const p99 = (name: string, v: number | null): TargetCheck => ({ name, value: v, goal: '≤ 5 ms', pass: v !== null && v <= 5 });
  const m = ok(r.migration) ? r.migration : null;
  return [
    ratio('bulk throughput, 1 connection', r.throughput['1'], 0.9),
    ratio('bulk throughput, 100 connections', r.throughput['100'], 0.8),
    ratio('connections per second', r.connectionRate, 0.4),
    // p99 over each round of migrations, median over the rounds (a noisy neighbour hits one round).
    p99('migration p99, connect → first replayed byte', sound(m) ? m!.connectToFirstByteMs.medianP99 : null),
    p99('migration p99, connect → server read again', sound(m) ? m!.connectToResumeMs.medianP99 : null),
  ];
}
