/**
 * The WebSocket RPC load generator's own process (`node dist/bench/names-ws-load-child.js
 * SPEC-JSON`): `sockets` push sessions, each with `inFlight` requests outstanding in a closed loop
 * (a new request as soon as one is answered), for `durationS`. Prints one `LoadResult` JSON line.
 * Kinds: `bare` and `resolve` (proxy sessions with the service key resolving random DIDs; `bare`
 * is the same frames sent to the do-nothing echo server), `heartbeat` (each session a random
 * device of its own, a new CoA on every heartbeat: every one is written and is a CoA change) and
 * `heartbeat-steady` (the same CoA each time: the common case of an agent that did not move).
 */
import { SendBatcher } from '../names/push/send-batcher.js';
import type { LoadResult } from './names-load.js';
import { openSession, percentile, requestFrame, round3, sessionAuthorization, type WsLoadKind } from './names-ws-session.js';
import { runAsJsonChild } from './names-proc.js';

export interface WsChildSpec {
  url: string;
  kind: WsLoadKind;
  sockets: number;
  inFlight: number;
  durationS: number;
  count: number;
  serviceKey: string;
  /** Offset of this process's devices, so two processes never heartbeat as the same device. */
  seed: number;
}

const MAX_SAMPLES = 5_000_000;

export async function runWsChild(spec: WsChildSpec): Promise<LoadResult> {
  // Devices spread over the seeded ones, distinct within and across processes.
  const device = (s: number) => (spec.seed + s * 7919) % spec.count;
  const sockets = (
    await Promise.all(Array.from({ length: spec.sockets }, (_, s) => openSession(spec.url, sessionAuthorization(spec.kind, device(s), spec.serviceKey))))
  ).map((o) => o.ws);
  // Requests sent in one turn (the answers of one read each start a new one) leave in one write.
  const out = new SendBatcher();
  const samples = new Float64Array(MAX_SAMPLES);
  let n = 0;
  let errors = 0;
  const errorKinds: Record<string, number> = {};
  let seq = 0;
  let outstanding = 0;
  const start = performance.now();
  const deadline = start + spec.durationS * 1000;
  let drained: () => void = () => {};
  const done = new Promise<void>((r) => (drained = r));

  sockets.forEach((ws, s) => {
    const sentAt = new Map<number, number>();
    const send = () => {
      const id = seq++;
      const frame = requestFrame(spec.kind, id, s, spec.count);
      sentAt.set(id, performance.now());
      outstanding++;
      out.send(ws, frame);
    };
    ws.on('message', (data) => {
      const now = performance.now();
      const m = JSON.parse(String(data)) as { type: string; id?: number; error?: { code: string } };
      if (m.type !== 'rpc-result' && m.type !== 'rpc-error') return;
      const t0 = sentAt.get(m.id!);
      if (t0 === undefined) return;
      sentAt.delete(m.id!);
      outstanding--;
      if (n < MAX_SAMPLES) samples[n] = now - t0;
      n++;
      if (m.type === 'rpc-error') {
        errors++;
        const k = m.error?.code ?? 'rpc-error';
        errorKinds[k] = (errorKinds[k] ?? 0) + 1;
      }
      if (now < deadline) send();
      else if (outstanding === 0) drained();
    });
    ws.on('close', () => {
      if (performance.now() < deadline) {
        errors++;
        errorKinds.closed = (errorKinds.closed ?? 0) + 1;
      }
      outstanding -= sentAt.size;
      sentAt.clear();
      if (outstanding === 0) drained();
    });
    for (let k = 0; k < spec.inFlight; k++) send();
  });
  const guard = setTimeout(drained, spec.durationS * 1000 + 10_000);
  await done;
  clearTimeout(guard);
  const seconds = (performance.now() - start) / 1000;
  for (const ws of sockets) ws.terminate();
  const sorted = samples.subarray(0, Math.min(n, MAX_SAMPLES)).sort();
  const pct = (p: number) => round3(percentile(sorted, p));
  return { requests: n, errors, ...(errors ? { errorKinds } : {}), seconds: round3(seconds), perSecond: Math.round(n / seconds), p50Ms: pct(0.5), p99Ms: pct(0.99), maxMs: pct(1) };
}

runAsJsonChild(import.meta.url, runWsChild);
