/**
 * The WebSocket RPC figures of the name-server benchmark (docs/names.md, "RPC over the push
 * channel"): resolutions from a few proxy sessions with many requests in flight each;
 * heartbeats from a few device sessions with several in flight each (a new CoA every time, and
 * the same CoA every time), and from one session per device with one in flight (as agents send
 * them), the load generator in a process of its own (names-ws-load-child.ts). Each figure comes right after the same generator against
 * a do-nothing echo server on the same library (names-ws-echo-main.ts), and is reported as a
 * ratio to it, with the server's CPU time per request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from './names-load.js';
import { awaitListening, cpuMicros } from './names-proc.js';
import type { WsChildSpec } from './names-ws-load-child.js';
import { runWsLoadProcesses, runWsRateProcess } from './names-ws-load.js';
import type { FixedRateResult } from './names-ws-rate-child.js';
import { runQueueWaitMs } from './run-queue-wait.js';

const ECHO = join(dirname(fileURLToPath(import.meta.url)), 'names-ws-echo-main.js');

/** Sessions × requests in flight on each. */
export const WS_SHAPE = {
  resolve: { sockets: 4, inFlight: 16 },
  heartbeat: { sockets: 16, inFlight: 4 },
  perSession: { sockets: 64, inFlight: 1 },
};
const WS_PROCESSES = Number(process.env.TSMP_BENCH_WS_PROCESSES ?? 1);

export type WsFigure = LoadResult & { vsEcho: number; serverCpuUsPerRequest: number | null; echo: LoadResult };
export type WsBench = Record<'resolve' | 'heartbeat' | 'heartbeatSteady' | 'heartbeatOnePerSession', WsFigure>;

export async function startWsEcho(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [ECHO], { stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await awaitListening(child, 'echo server');
  return { child, url };
}

export async function measureWs(url: string, serverPid: number, echo: { url: string; pid: number }, count: number, durationS: number, serviceKey: string): Promise<WsBench> {
  type Shape = { sockets: number; inFlight: number };
  const load = (u: string, kind: WsChildSpec['kind'], shape: Shape, seconds = durationS) =>
    runWsLoadProcesses({ url: u, kind, ...shape, processes: WS_PROCESSES, durationS: seconds, count, serviceKey });
  const one = async (kind: WsChildSpec['kind'], shape: Shape): Promise<WsFigure> => {
    // The echo answers every kind alike; it sees the same sessions and frames in flight.
    const echoRun = await load(echo.url, kind === 'resolve' ? 'bare' : kind, shape);
    const cpu0 = cpuMicros(serverPid);
    const r = await load(url, kind, shape);
    const cpu1 = cpuMicros(serverPid);
    const serverCpuUsPerRequest = cpu0 === null || cpu1 === null ? null : Math.round((cpu1 - cpu0) / Math.max(1, r.requests));
    return { ...r, vsEcho: Math.round((r.perSecond / Math.max(1, echoRun.perSecond)) * 1000) / 1000, serverCpuUsPerRequest, echo: echoRun };
  };
  // Warm-up: JIT, and the SQLite store's device cache starts filling (the resolve run fills the rest).
  await load(url, 'resolve', WS_SHAPE.resolve, 2);
  return {
    resolve: await one('resolve', WS_SHAPE.resolve),
    heartbeat: await one('heartbeat', WS_SHAPE.heartbeat),
    heartbeatSteady: await one('heartbeat-steady', WS_SHAPE.heartbeat),
    heartbeatOnePerSession: await one('heartbeat-steady', WS_SHAPE.perSession),
  };
}

/**
 * The fixed-rate (open-loop) runs (names-ws-rate-child.ts, docs/names.md "Latency at a fixed
 * rate"): the rates offered on the same sessions as the closed loop, each right after
 * the same schedule against the echo server, whose latency is the floor this machine and this
 * generator give at that moment.
 */
export const FIXED_RATE = {
  resolve: { sockets: WS_SHAPE.resolve.sockets, ratePerSecond: 20_000 },
  heartbeat: { sockets: WS_SHAPE.heartbeat.sockets, ratePerSecond: 10_000 },
};

/**
 * `serverCpuUsPerRequest` over the whole schedule (warm-up included); `echo` the same schedule
 * against the echo server; `timelineMaxMs` the worst latency of each 100 ms (where stalls are).
 */
export type FixedRateFigure = FixedRateResult & {
  serverCpuUsPerRequest: number | null;
  /** The server's main thread, runnable and not running, over the whole schedule (ms; run-queue-wait.ts). */
  serverRunQueueWaitMs: number;
  echo: FixedRateResult & { serverRunQueueWaitMs: number };
};

const round1 = (x: number): number => Math.round(x * 10) / 10;
export type WsFixedRateBench = Record<'resolve' | 'heartbeat' | 'heartbeatSteady', FixedRateFigure>;

export async function measureWsFixedRate(
  url: string,
  serverPid: number,
  echo: { url: string; pid: number },
  count: number,
  timing: { warmupS: number; durationS: number },
  serviceKey: string,
  rates: { resolve: number; heartbeat: number } = { resolve: FIXED_RATE.resolve.ratePerSecond, heartbeat: FIXED_RATE.heartbeat.ratePerSecond },
): Promise<WsFixedRateBench> {
  const run = (u: string, kind: WsChildSpec['kind'], sockets: number, ratePerSecond: number) =>
    runWsRateProcess({ url: u, kind, sockets, ratePerSecond, ...timing, count, serviceKey, seed: 0, timelineMs: 100 });
  const one = async (kind: WsChildSpec['kind'], sockets: number, rate: number): Promise<FixedRateFigure> => {
    const echoWait0 = runQueueWaitMs([echo.pid]);
    const echoRun = await run(echo.url, kind === 'resolve' ? 'bare' : kind, sockets, rate);
    const echoWait = round1(runQueueWaitMs([echo.pid]) - echoWait0);
    const cpu0 = cpuMicros(serverPid);
    const wait0 = runQueueWaitMs([serverPid]);
    const r = await run(url, kind, sockets, rate);
    const cpu1 = cpuMicros(serverPid);
    const serverRunQueueWaitMs = round1(runQueueWaitMs([serverPid]) - wait0);
    const scheduled = Math.round(rate * (timing.warmupS + timing.durationS));
    const serverCpuUsPerRequest = cpu0 === null || cpu1 === null ? null : Math.round((cpu1 - cpu0) / scheduled);
    return { ...r, serverCpuUsPerRequest, serverRunQueueWaitMs, echo: { ...echoRun, serverRunQueueWaitMs: echoWait } };
  };
  return {
    resolve: await one('resolve', FIXED_RATE.resolve.sockets, rates.resolve),
    heartbeat: await one('heartbeat', FIXED_RATE.heartbeat.sockets, rates.heartbeat),
    heartbeatSteady: await one('heartbeat-steady', FIXED_RATE.heartbeat.sockets, rates.heartbeat),
  };
}
