/**
 * A closed-loop HTTP load generator for the name-server benchmark: `concurrency` workers send
 * requests back to back over keep-alive connections for `durationMs`, and every latency is kept
 * (bounded by the run's length) for exact percentiles.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildSpec } from './names-load-child.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'names-load-child.js');

export interface LoadResult {
  requests: number;
  errors: number;
  /** Failures by HTTP status or socket error code. */
  errorKinds?: Record<string, number>;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadSpec {
  url: string;
  concurrency: number;
  durationMs: number;
  /** Builds request number `i`. */
  request: (i: number) => { method: string; path: string; headers: Record<string, string>; body?: Buffer };
  /** Latencies kept at most; later ones are dropped from the percentiles only. @default 5e6 */
  maxSamples?: number;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const base = new URL(spec.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const maxSamples = spec.maxSamples ?? 5_000_000;
  const samples = new Float64Array(maxSamples);
  let n = 0;
  let errors = 0;
  const errorKinds: Record<string, number> = {};
  let next = 0;
  const start = performance.now();
  const deadline = start + spec.durationMs;

  const one = (i: number) =>
    new Promise<string | null>((resolve) => {
      const r = spec.request(i);
      const req = http.request(
        { host: base.hostname, port: base.port, method: r.method, path: r.path, agent, headers: r.body ? { ...r.headers, 'content-length': r.body.length } : r.headers },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => resolve((res.statusCode ?? 500) < 300 ? null : String(res.statusCode)));
          res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        },
      );
      req.setTimeout(10_000, () => req.destroy());
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      req.end(r.body);
    });

  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const failure = await one(next++);
      const dt = performance.now() - t0;
      if (failure !== null) {
        errors++;
        errorKinds[failure] = (errorKinds[failure] ?? 0) + 1;
      }
      if (n < maxSamples) samples[n] = dt;
      n++;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  const sorted = samples.subarray(0, Math.min(n, maxSamples)).sort();
  const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { requests: n, errors, ...(errors ? { errorKinds } : {}), seconds: round(seconds), perSecond: Math.round(n / seconds), p50Ms: round(pct(0.5)), p99Ms: round(pct(0.99)), maxMs: round(pct(1)) };
}

/**
 * The same closed loop from `processes` child processes running autocannon
 * (bench/names-load-child.ts), `connections` split between them. With several processes the
 * rate is the sum, p50 the request-weighted mean of theirs and p99/max the worst process's
 * (an upper bound of the true percentile).
 */
export async function runLoadProcesses(spec: Omit<ChildSpec, 'connections'> & { connections: number; processes: number }): Promise<LoadResult> {
  const per = Math.max(1, Math.floor(spec.connections / spec.processes));
  const one = (): Promise<LoadResult> => runLoadChild(CHILD, { ...spec, connections: per }, spec.durationS, 'load generator');
  const rs = await Promise.all(Array.from({ length: spec.processes }, one));
  return mergeLoadResults(rs);
}

/**
 * Runs one load-generator child (`childPath` with its JSON spec as the argument) and resolves with
 * the result it prints; killed if it outlives its run by 30 s.
 */
export function runLoadChild<R = LoadResult>(childPath: string, spec: unknown, durationS: number, label: string): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childPath, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), durationS * 1000 + 30_000);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as R);
      else reject(new Error(`${label} exited with ${code}: ${err}`));
    });
  });
}

/** One result for several load processes: sums of counts and rates, the worst tail, the request-weighted p50. */
export function mergeLoadResults(rs: LoadResult[]): LoadResult {
  const requests = rs.reduce((s, r) => s + r.requests, 0);
  const errors = rs.reduce((s, r) => s + r.errors, 0);
  const errorKinds: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r.errorKinds ?? {})) errorKinds[k] = (errorKinds[k] ?? 0) + v;
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return {
    requests,
    errors,
    ...(errors ? { errorKinds } : {}),
    seconds: Math.max(...rs.map((r) => r.seconds)),
    perSecond: rs.reduce((s, r) => s + r.perSecond, 0),
    p50Ms: r3(rs.reduce((s, r) => s + r.p50Ms * r.requests, 0) / Math.max(1, requests)),
    p99Ms: Math.max(...rs.map((r) => r.p99Ms)),
    maxMs: Math.max(...rs.map((r) => r.maxMs)),
  };
}
