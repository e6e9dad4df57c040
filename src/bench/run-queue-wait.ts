import { readFileSync } from 'node:fs';

/**
 * Time a thread spent runnable but not running (waiting on a CPU's run queue), in ms: the second
 * field of `/proc/PID/task/TID/schedstat` (Linux, `Documentation/scheduler/sched-stats.rst`).
 * Summed over the main threads of `pids` (each process's event loop runs on its main thread,
 * whose tid is the pid). A thread that is gone counts 0. Used to split a slow migration's latency
 * into what the machine's CPU contention added (the proxy wanted a CPU and did not get one) and
 * the rest; reading it costs ~10 µs per thread, so the bench reads it only around migrations.
 */
export function runQueueWaitMs(pids: readonly number[]): number {
  let ns = 0;
  for (const pid of pids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // exited, or not Linux
    }
  }
  return ns / 1e6;
}
