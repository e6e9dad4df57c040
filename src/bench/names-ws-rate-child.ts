/**
 * The open-loop (fixed-rate) WebSocket RPC load generator's own process (`node
 * dist/bench/names-ws-rate-child.js SPEC-JSON`), for latency at a given offered rate measured
 * the way wrk2 does it (https://github.com/giltene/wrk2, "A note about wrk2's latency
 * measurement technique"):
 *
 * - Request k has an intended send time, `t0 + k / rate`, fixed before the run: the schedule is
 *   paced by the clock, never by the answers (open loop). Requests go round-robin over the
 *   sessions; a tick of the clock sends every request that is due.
 * - Each latency is taken from the request's *intended* send time to its answer, so a stall
 *   anywhere (server, network, this generator) is charged to every request that should have
 *   gone out during it, and a generator that falls behind cannot hide it ("coordinated
 *   omission", Gil Tene; the same correction as HdrHistogram's recordValueWithExpectedInterval).
 *   The latency from the actual send (wrk2's "uncorrected", `--u_latency`) and the send lag
 *   (actual − intended) are reported beside it.
 * - A session never has more unanswered requests than the server's `hello` allows
 *   (`rpc.maxInFlight`, else `spec.maxInFlight`); a request over that bound waits in the
 *   generator, still timed from its intended time, and counts as late.
 * - The first `warmupS` of the schedule are sent but not recorded (wrk2's calibration period).
 * - Requests still unanswered `drainMs` after the schedule ends are counted as `unanswered` and
 *   enter the percentiles with the time they had waited (a lower bound), not left out.
 *
 * As in wrk2 ("measured latencies are only accurate to +/- ~1 msec granularity, due to OS sleep
 * time behavior"), the clock ticks at most once per millisecond (Node's timers), so a request
 * may leave up to about a millisecond after its intended time even on an idle machine; that lag
 * is in every figure of the run, the do-nothing baseline's included. Prints one
 * `FixedRateResult` JSON line.
 */
import type { WebSocket } from 'ws';
import { SendBatcher } from '../names/push/send-batcher.js';
import { openSession, percentile, requestFrame, round3, sessionAuthorization, type WsLoadKind } from './names-ws-session.js';
import { runAsJsonChild } from './names-proc.js';

export interface WsRateSpec {
  url: string;
  kind: WsLoadKind;
  sockets: number;
  /** Requests per second offered, over all sessions together. */
  ratePerSecond: number;
  /** Seconds of the schedule sent but not recorded. */
  warmupS: number;
  /** Seconds of the schedule recorded. */
  durationS: number;
  count: number;
  serviceKey: string;
  /** Offset of the devices used, as in the closed-loop generator. */
  seed: number;
  /** Unanswered requests per session when the server's `hello` states no bound. @default 256 */
  maxInFlight?: number;
  /** A request sent later than this after its intended time counts as late. @default 2 */
  lateMs?: number;
  /** How long answers are awaited after the schedule ends. @default 5000 */
  drainMs?: number;
  /** Also report the worst latency of each window of this many ms of the recorded schedule (where the stalls are). */
  timelineMs?: number;
}

interface Percentiles {
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export interface FixedRateResult extends Percentiles {
  offeredPerSecond: number;
  /** Answers to recorded requests per second, from the start of the recorded schedule to the last of them. */
  perSecond: number;
  /** Recorded requests (the schedule after the warm-up). */
  requests: number;
  answered: number;
  /** `rpc-error` answers and sessions closed by the server. */
  errors: number;
  errorKinds?: Record<string, number>;
  /** Recorded requests with no answer `drainMs` after the schedule ended (in the percentiles as a lower bound). */
  unanswered: number;
  seconds: number;
  /** From the actual send instead of the intended one (wrk2's "uncorrected" latency). */
  uncorrected: Percentiles;
  /** Actual send − intended send. */
  sendLag: Percentiles;
  /** Recorded requests sent more than `lateMs` after their intended time, or never sent. */
  late: number;
  lateMs: number;
  /** The per-session bound on unanswered requests the generator kept. */
  maxInFlight: number;
  /** With `timelineMs`: the worst latency (from the intended time) of the requests intended in each window. */
  timelineMaxMs?: number[];
}

export async function runWsRateChild(spec: WsRateSpec): Promise<FixedRateResult> {
  const lateMs = spec.lateMs ?? 2;
  const drainMs = spec.drainMs ?? 5000;
  const device = (s: number) => (spec.seed + s * 7919) % spec.count;
  const opened = await Promise.all(
    Array.from({ length: spec.sockets }, (_, s) => openSession(spec.url, sessionAuthorization(spec.kind, device(s), spec.serviceKey))),
  );
  const cap = Math.min(...opened.map((o) => o.maxInFlight ?? spec.maxInFlight ?? 256));
  const sockets: WebSocket[] = opened.map((o) => o.ws);

  const interval = 1000 / spec.ratePerSecond;
  const total = Math.round(spec.ratePerSecond * (spec.warmupS + spec.durationS));
  const firstRecorded = Math.round(spec.ratePerSecond * spec.warmupS);
  const sentAt = new Float64Array(total).fill(NaN);
  const answeredAt = new Float64Array(total).fill(NaN);
  const inFlight = new Int32Array(spec.sockets);
  const backlog: number[][] = sockets.map(() => []);
  const backlogHead = new Int32Array(spec.sockets);
  const out = new SendBatcher();
  let errors = 0;
  const errorKinds: Record<string, number> = {};
  let next = 0;
  let outstanding = 0;
  let finished = false;
  let finish: () => void = () => {};
  const done = new Promise<void>((r) => (finish = r));
  // Starts one tick from now, so the first requests are not already late when the loop begins.
  const t0 = performance.now() + 1;

  const send = (k: number) => {
    const s = k % spec.sockets;
    const ws = sockets[s]!;
    if (ws.readyState !== ws.OPEN) return;
    sentAt[k] = performance.now();
    inFlight[s]!++;
    outstanding++;
    out.send(ws, requestFrame(spec.kind, k, s, spec.count));
  };
  const dispatch = (k: number) => {
    const s = k % spec.sockets;
    if (inFlight[s]! < cap && backlogHead[s] === backlog[s]!.length) send(k);
    else backlog[s]!.push(k);
  };
  const maybeFinish = () => {
    if (next < total || outstanding > 0) return;
    if (backlog.some((b, s) => backlogHead[s]! < b.length && sockets[s]!.readyState === sockets[s]!.OPEN)) return;
    finish();
  };
  const tick = () => {
    if (finished) return;
    const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
    while (next < due) dispatch(next++);
    if (next < total) setTimeout(tick, Math.max(0, t0 + next * interval - performance.now()));
    else maybeFinish();
  };

  sockets.forEach((ws, s) => {
    ws.on('message', (data) => {
      const now = performance.now();
      const text = String(data);
      const k = replyId(text);
      if (k === null || k < 0 || k >= total || Number.isNaN(sentAt[k]!) || !Number.isNaN(answeredAt[k]!)) return;
      answeredAt[k] = now;
      inFlight[s]!--;
      outstanding--;
      if (text.startsWith('{"type":"rpc-error"')) {
        errors++;
        const code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? 'rpc-error';
        errorKinds[code] = (errorKinds[code] ?? 0) + 1;
      }
      if (backlogHead[s]! < backlog[s]!.length) send(backlog[s]![backlogHead[s]!++]!);
      maybeFinish();
    });
    ws.on('close', () => {
      if (finished) return;
      errors++;
      errorKinds.closed = (errorKinds.closed ?? 0) + 1;
      outstanding -= inFlight[s]!;
      inFlight[s] = 0;
      maybeFinish();
    });
  });
  setTimeout(tick, 1);
  const guard = setTimeout(finish, (spec.warmupS + spec.durationS) * 1000 + drainMs + 1);
  await done;
  finished = true;
  clearTimeout(guard);
  const end = performance.now();
  for (const ws of sockets) ws.terminate();

  const n = total - firstRecorded;
  const corrected = new Float64Array(n);
  const uncorrected = new Float64Array(n);
  const lag = new Float64Array(n);
  let answered = 0;
  let unanswered = 0;
  let late = 0;
  let lastAnswer = t0 + firstRecorded * interval;
  const windows = spec.timelineMs ? new Array<number>(Math.ceil((spec.durationS * 1000) / spec.timelineMs)).fill(0) : null;
  for (let k = firstRecorded; k < total; k++) {
    const intended = t0 + k * interval;
    const sent = sentAt[k]!;
    const got = answeredAt[k]!;
    const i = k - firstRecorded;
    if (Number.isNaN(got)) {
      unanswered++;
      corrected[i] = end - intended;
      uncorrected[i] = Number.isNaN(sent) ? 0 : end - sent;
    } else {
      answered++;
      corrected[i] = got - intended;
      uncorrected[i] = got - sent;
      if (got > lastAnswer) lastAnswer = got;
    }
    lag[i] = Number.isNaN(sent) ? end - intended : sent - intended;
    if (windows) {
      const w = Math.min(windows.length - 1, Math.floor((i * interval) / spec.timelineMs!));
      windows[w] = Math.max(windows[w]!, round3(corrected[i]!));
    }
    if (Number.isNaN(sent) || sent - intended > lateMs) late++;
  }
  const seconds = (lastAnswer - (t0 + firstRecorded * interval)) / 1000;
  return {
    offeredPerSecond: spec.ratePerSecond,
    perSecond: Math.round(answered / Math.max(seconds, 1e-3)),
    requests: n,
    answered,
    errors,
    ...(errors ? { errorKinds } : {}),
    unanswered,
    seconds: round3(seconds),
    ...percentiles(corrected),
    uncorrected: percentiles(uncorrected),
    sendLag: percentiles(lag),
    late,
    lateMs,
    maxInFlight: cap,
    ...(windows ? { timelineMaxMs: windows } : {}),
  };
}

function percentiles(samples: Float64Array): Percentiles {
  const sorted = samples.sort();
  const p = (q: number) => round3(percentile(sorted, q));
  return { p50Ms: p(0.5), p99Ms: p(0.99), p999Ms: p(0.999), maxMs: p(1) };
}

/**
 * The id of an answer. The server and the echo write `{"type":…,"id":N,…}` (JSON.stringify keeps
 * key order), so the id is read without parsing the whole answer, which keeps the generator's
 * own CPU time per request low on a 2-core machine; anything else is parsed in full.
 */
function replyId(text: string): number | null {
  const at = text.indexOf('"id":');
  if (at > 0 && at < 32) {
    const id = parseInt(text.slice(at + 5, at + 21), 10);
    if (Number.isSafeInteger(id)) return id;
  }
  try {
    const m = JSON.parse(text) as { type?: string; id?: unknown };
    return (m.type === 'rpc-result' || m.type === 'rpc-error') && typeof m.id === 'number' ? m.id : null;
  } catch {
    return null;
  }
}

runAsJsonChild(import.meta.url, runWsRateChild);
