/**
 * A closed-loop HTTP load generator for the name-server benchmark: `concurrency` workers send
 * requests back to back over keep-alive connections for `durationMs`, and every latency is kept
 * (bounded by the run's length) for exact percentiles.
 */
import http from 'node:http';

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
