/**
 * Runs the WebSocket RPC load generators in child processes: the closed loop
 * (bench/names-ws-load-child.ts) in `processes` children, and the open-loop fixed-rate one
 * (bench/names-ws-rate-child.ts) in one.
 *
 * The closed loop's sessions are split between its processes and their results summed as
 * runLoadProcesses does for HTTP: the rate is the sum, p50 the request-weighted mean, p99/max
 * the worst process's.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeLoadResults, runLoadChild, type LoadResult } from './names-load.js';
import type { WsChildSpec } from './names-ws-load-child.js';
import type { FixedRateResult, WsRateSpec } from './names-ws-rate-child.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CHILD = join(HERE, 'names-ws-load-child.js');
const RATE_CHILD = join(HERE, 'names-ws-rate-child.js');

export async function runWsLoadProcesses(spec: Omit<WsChildSpec, 'seed'> & { processes: number }): Promise<LoadResult> {
  const per = Math.max(1, Math.floor(spec.sockets / spec.processes));
  const one = (p: number): Promise<LoadResult> =>
    runLoadChild(CHILD, { ...spec, sockets: per, seed: p * 104_729 }, spec.durationS, 'WebSocket load generator');
  const rs = await Promise.all(Array.from({ length: spec.processes }, (_, p) => one(p)));
  return mergeLoadResults(rs);
}

/**
 * One fixed-rate run. One process: the rate is set, not found by adding load, and one
 * generator keeps a single schedule (two would each pace half of it on the same 2 cores).
 */
export function runWsRateProcess(spec: WsRateSpec): Promise<FixedRateResult> {
  return runLoadChild<FixedRateResult>(RATE_CHILD, spec, spec.warmupS + spec.durationS + (spec.drainMs ?? 5000) / 1000, 'fixed-rate WebSocket load generator');
}
