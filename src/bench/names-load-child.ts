/**
 * The load generator's own process (`node dist/bench/names-load-child.js SPEC-JSON`): autocannon
 * over keep-alive connections, closed loop (no pipelining, so every latency is one request's), so
 * the name server and its client do not share an event loop. Prints one `LoadResult` JSON line.
 * Kinds: `bare` (GET /), `resolve` (GET /v1/devices/{random DID}, service key) and `heartbeat`
 * (POST /v1/heartbeat as a random device, a new CoA each time).
 */
import { createRequire } from 'node:module';
import { did, token } from './names-ids.js';
import type { LoadResult } from './names-load.js';
import { runAsJsonChild } from './names-proc.js';

export interface ChildSpec {
  url: string;
  kind: 'bare' | 'resolve' | 'heartbeat';
  connections: number;
  durationS: number;
  /** Seeded devices to pick from. */
  count: number;
  serviceKey: string;
  /** The path of `bare` requests. @default "/" */
  path?: string;
}

interface RawRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
interface Histogram {
  p50: number;
  p99: number;
  max: number;
  total: number;
}
interface AutocannonResult {
  requests: Histogram;
  latency: Histogram;
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

// autocannon ships CommonJS without types.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

function setup(spec: ChildSpec): (req: RawRequest) => RawRequest {
  const rnd = () => Math.floor(Math.random() * spec.count);
  const bearer = `Bearer ${spec.serviceKey}`;
  let n = 0;
  if (spec.kind === 'bare') return (req) => ({ ...req, method: 'GET', path: spec.path ?? '/' });
  if (spec.kind === 'resolve') {
    return (req) => ({ ...req, method: 'GET', path: `/v1/devices/${encodeURIComponent(did(rnd()))}`, headers: { authorization: bearer } });
  }
  return (req) => {
    const i = rnd();
    n++;
    return {
      ...req,
      method: 'POST',
      path: '/v1/heartbeat',
      headers: { authorization: `Basic ${Buffer.from(`${did(i)}:${token(i)}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ coa: `198.18.${(n >> 8) & 255}.${n & 255}:4000`, groupModified: 0 }),
    };
  };
}

export async function runChild(spec: ChildSpec): Promise<LoadResult> {
  const r = await autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    duration: spec.durationS,
    timeout: 10,
    requests: [{ setupRequest: setup(spec) }],
  });
  const errors = r.errors + r.non2xx;
  const errorKinds: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) if (Number(code) >= 300) errorKinds[code] = Number(s.count);
  if (r.errors) errorKinds.socket = r.errors;
  const total = r.requests.total;
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return { requests: total, errors, ...(errors ? { errorKinds } : {}), seconds: r.duration, perSecond: Math.round(total / r.duration), p50Ms: r3(r.latency.p50), p99Ms: r3(r.latency.p99), maxMs: r3(r.latency.max) };
}

runAsJsonChild(import.meta.url, runChild);
