/**
 * Runs the WebSocket RPC load generator (bench/names-ws-load-child.ts) in `processes` child
 * processes, sessions split between them, and sums their results as runLoadProcesses does for
 * HTTP: the rate is the sum, p50 the request-weighted mean, p99/max the worst process's.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeLoadResults, type LoadResult } from './names-load.js';
import type { WsChildSpec } from './names-ws-load-child.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'names-ws-load-child.js');

export async function runWsLoadProcesses(spec: Omit<WsChildSpec, 'seed'> & { processes: number }): Promise<LoadResult> {
  const per = Math.max(1, Math.floor(spec.sockets / spec.processes));
  const one = (p: number): Promise<LoadResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CHILD, JSON.stringify({ ...spec, sockets: per, seed: p * 104_729 })], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), spec.durationS * 1000 + 30_000);
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(JSON.parse(out) as LoadResult);
        else reject(new Error(`WebSocket load generator exited with ${code}: ${err}`));
      });
    });
  const rs = await Promise.all(Array.from({ length: spec.processes }, (_, p) => one(p)));
  return mergeLoadResults(rs);
}
