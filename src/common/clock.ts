import { performance } from 'node:perf_hooks';

/** Epoch milliseconds with sub-millisecond precision, for phase timings. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
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
