/**
 * Runs the WebSocket RPC load generator (bench/names-ws-load-child.ts) in `processes` child
 * processes, sessions split between them, and sums their results as runLoadProcesses does for
 * HTTP: the rate is the sum, p50 the request-weighted mean, p99/max the worst process's.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeLoadResults, runLoadChild, type LoadResult } from './names-load.js';
import type { WsChildSpec } from './names-ws-load-child.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'names-ws-load-child.js');

export async function runWsLoadProcesses(spec: Omit<WsChildSpec, 'seed'> & { processes: number }): Promise<LoadResult> {
  const per = Math.max(1, Math.floor(spec.sockets / spec.processes));
  const one = (p: number): Promise<LoadResult> =>
    runLoadChild(CHILD, { ...spec, sockets: per, seed: p * 104_729 }, spec.durationS, 'WebSocket load generator');
  const rs = await Promise.all(Array.from({ length: spec.processes }, (_, p) => one(p)));
  return mergeLoadResults(rs);
}
