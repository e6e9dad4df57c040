/**
 * What both WebSocket RPC load generators of the name-server benchmark share: opening a push
 * session (waiting for the server's `hello`), the request frames of each kind, and exact
 * percentiles over every kept latency (a sorted array rather than a histogram: a run keeps a few
 * hundred thousand samples, so nothing is rounded).
 */
import WebSocket from 'ws';
import { did, token } from './names-ids.js';

/** `bare` is the resolve frame sent to the do-nothing echo server. */
export type WsLoadKind = 'bare' | 'resolve' | 'heartbeat' | 'heartbeat-steady';

export interface OpenSession {
  ws: WebSocket;
  /** The server's per-session bound on unanswered requests, from its `hello` (null: none said). */
  maxInFlight: number | null;
}

export function openSession(url: string, authorization: string, timeoutMs = 10_000): Promise<OpenSession> {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/v1/push', { headers: { authorization }, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no hello within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once('message', (data) => {
      clearTimeout(t);
      let maxInFlight: number | null = null;
      try {
        const hello = JSON.parse(String(data)) as { rpc?: { maxInFlight?: unknown } };
        if (typeof hello.rpc?.maxInFlight === 'number') maxInFlight = hello.rpc.maxInFlight;
      } catch {
        // not JSON: no bound known
      }
      resolve({ ws, maxInFlight });
    });
    ws.once('error', (err) => {
      clearTimeout(t);
      reject(err);
    });
    ws.once('unexpected-response', (_q, res) => {
      clearTimeout(t);
      reject(new Error(`upgrade refused: HTTP ${res.statusCode}`));
    });
  });
}

/** Heartbeats come from device sessions (Basic DID:token), resolutions from a proxy (service key). */
export function sessionAuthorization(kind: WsLoadKind, device: number, serviceKey: string): string {
  if (kind === 'heartbeat' || kind === 'heartbeat-steady') return `Basic ${Buffer.from(`${did(device)}:${token(device)}`).toString('base64')}`;
  return `Bearer ${serviceKey}`;
}

/**
 * Request `id` of session `s`: a resolution of a random DID among `count`, or a heartbeat with a
 * new CoA each time (`heartbeat`: every one is written and is a CoA change) or the same CoA
 * (`heartbeat-steady`: an agent that did not move).
 */
export function requestFrame(kind: WsLoadKind, id: number, s: number, count: number): string {
  if (kind === 'heartbeat' || kind === 'heartbeat-steady') {
    const coaBase = `198.18.${(s >> 8) & 255}.${s & 255}`;
    const coa = kind === 'heartbeat' ? `${coaBase}:${id & 65535}` : `${coaBase}:4000`;
    return JSON.stringify({ type: 'rpc', id, method: 'heartbeat', params: { coa, groupModified: 0 } });
  }
  return JSON.stringify({ type: 'rpc', id, method: 'resolve', params: { did: did(Math.floor(Math.random() * count)) } });
}

/**
 * Percentile `p` (0..1) of ascending `sorted`: the smallest sample with at least p of all at or
 * below it (nearest rank, as HdrHistogram's getValueAtPercentile), 0 when empty.
 */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export const round3 = (x: number): number => Math.round(x * 1000) / 1000;
