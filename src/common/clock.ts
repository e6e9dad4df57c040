import { performance } from 'node:perf_hooks';

/**
 * Wall clock minus the monotonic clock, sampled here rather than taken from
 * `performance.timeOrigin`: Node captures that origin's two halves at different moments of its
 * start-up, so a process descheduled in between (a loaded machine) carries an epoch that is off by
 * that long for its whole life (measured: a proxy 14 ms ahead of the processes it talked to). Of a
 * few back-to-back pairs the one read closest together is kept.
 */
const EPOCH_ANCHOR = (() => {
  let best = { gap: Infinity, anchor: performance.timeOrigin };
  for (let i = 0; i < 5; i++) {
    const a = performance.now();
    const wall = Date.now();
    const b = performance.now();
    if (b - a < best.gap) best = { gap: b - a, anchor: wall - (a + b) / 2 };
  }
  return best.anchor;
})();

/** Epoch milliseconds with sub-millisecond precision, for phase timings. */
export function nowMs(): number {
  return EPOCH_ANCHOR + performance.now();
}

/** Resolves when `check()` holds, polling every `everyMs`; false if `timeoutMs` passes first. */
export async function waitUntil(check: () => boolean, timeoutMs: number, everyMs = 1): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return true;
}
