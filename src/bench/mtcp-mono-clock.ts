/**
 * CLOCK_MONOTONIC in ms (process.hrtime): unlike Date.now() or performance.timeOrigin, the same
 * clock in every process of the machine (and every network namespace), to the ns, so times taken
 * by the benchmark's client and members can be subtracted.
 */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
