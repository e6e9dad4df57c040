import type { JsonLinesClient } from './json-lines.js';
import type { MigrateResult, MigrationSample } from './load-migrate.js';
import { distribution, median, round, type Distribution } from './stats.js';
import { processTree } from './process-rss.js';
import { BENCH_DEVICES, BENCH_UID, startTsmpProxy } from './tsmp-proxy.js';

/** One latency over every migration of the run, plus each round's p50/p99 and their medians. */
export interface LatencyFigure extends Distribution {
  rounds: { p50: number; p99: number }[];
  /** Median over rounds of each round's p50 and p99: what the table shows. */
  medianP50: number;
  medianP99: number;
}

export interface MigrationFigure {
  connectionsOpen: number;
  /** Each open stream's chunk (bytes) and period (ms): the background the proxy relays meanwhile. */
  background: { chunkBytes: number; intervalMs: number; bytesPerSecond: number };
  /** Migrations per round, and rounds. */
  migrations: number;
  rounds: number;
  /** The target device pipelined its SOCKS5 handshake (one round trip) or not (three). */
  pipelinedAttach?: boolean;
  failed: number;
  /** Proxy timings: target's TCP connect accepted → first replayed byte written. */
  connectToFirstByteMs: LatencyFigure;
  /** Proxy timings: target's TCP connect accepted → server side read again. */
  connectToResumeMs: LatencyFigure;
  /** Of which: the proxy's own cutover, attach → server read again (no client round trip in it). */
  attachToResumeMs: LatencyFigure;
  /** Proxy timings: migrate request → server side read again (includes the client's dial). */
  requestToResumeMs: LatencyFigure;
  /** Client view: POST /migrate sent → target's SOCKS5 tunnel open. */
  clientRequestToTunnelMs: LatencyFigure;
  /**
   * Run-queue wait (run-queue-wait.ts) of the proxy's and the generator's main threads from each
   * migrate request to its answer, and the latency without the proxy's share: how much of a p99
   * is the machine's CPU contention rather than the proxy's own work.
   */
  runQueue: {
    proxyWaitMs: { p50: number; p99: number };
    clientWaitMs: { p50: number; p99: number };
    connectToFirstByteLessProxyWaitMs: { p50: number; p99: number };
    /** Less the proxy's and the generator's waits together (the generator sends the target's handshake). */
    connectToFirstByteLessBothWaitsMs: { p50: number; p99: number };
  };
  migrationsWithReplay: number;
  wrongBytes: number;
  offsetMismatches: number;
  /** Every migration's timings (ms); the proxy phases only for those slower than the target. */
  samples: CompactSample[];
}

type CompactSample = Omit<MigrationSample, 'phasesMs'> & { phasesMs?: Record<string, number> };

/** Rounded, and phases kept only where they explain a slow migration: the JSON stays small. */
function compact(s: MigrationSample): CompactSample {
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return {
    round: s.round,
    connectToFirstByteMs: r3(s.connectToFirstByteMs),
    connectToResumeMs: r3(s.connectToResumeMs),
    requestToResumeMs: r3(s.requestToResumeMs),
    clientRequestToTunnelMs: r3(s.clientRequestToTunnelMs),
    proxyRunQueueWaitMs: r3(s.proxyRunQueueWaitMs),
    clientRunQueueWaitMs: r3(s.clientRunQueueWaitMs),
    bytesReplayed: s.bytesReplayed,
    ...(s.connectToResumeMs > SLOW_MS ? { phasesMs: s.phasesMs } : {}),
  };
}

const SLOW_MS = 5;

const p50p99 = (values: number[]): { p50: number; p99: number } => {
  const d = distribution(values);
  return { p50: d.p50, p99: d.p99 };
};

function latency(samples: MigrationSample[], rounds: number, value: (s: MigrationSample) => number): LatencyFigure {
  const perRound = Array.from({ length: rounds }, (_, r) => distribution(samples.filter((s) => s.round === r).map(value)));
  return {
    ...distribution(samples.map(value)),
    rounds: perRound.map((d) => ({ p50: d.p50, p99: d.p99 })),
    medianP50: round(median(perRound.map((d) => d.p50))),
    medianP99: round(median(perRound.map((d) => d.p99))),
  };
}

/**
 * Migration latency on loopback (issue 2, "Benchmark"), on a fresh proxy so that the earlier
 * figures' load does not linger in its heap.
 */
export async function measureMigration(opts: {
  load: JsonLinesClient;
  dir: string;
  proxyArgs: string[];
  sourcePort: number;
  /** The source server's stream chunk and period (what the open streams carry). */
  stream: { chunkBytes: number; intervalMs: number };
  connections: number;
  migrations: number;
  rounds: number;
  timeoutMs: number;
  pipelinedAttach: boolean;
}): Promise<MigrationFigure> {
  const proxy = await startTsmpProxy({ dir: opts.dir, extraArgs: opts.proxyArgs, timeoutMs: opts.timeoutMs });
  try {
    const r = await opts.load.call<MigrateResult>(
      'migrate',
      {
        proxyPort: proxy.port,
        controlUrl: proxy.controlUrl,
        uid: BENCH_UID,
        devices: BENCH_DEVICES,
        destPort: opts.sourcePort,
        connections: opts.connections,
        migrations: opts.migrations,
        rounds: opts.rounds,
        timeoutMs: opts.timeoutMs,
        pipelinedAttach: opts.pipelinedAttach,
        proxyPids: processTree(proxy.child.proc.pid!),
      },
      // opening the streams, then each migration bounded on its own
      (opts.migrations * opts.rounds + 10) * opts.timeoutMs,
    );
    const s = r.samples;
    const fig = (f: (x: MigrationSample) => number) => latency(s, opts.rounds, f);
    const b = opts.stream;
    return {
      connectionsOpen: r.connections,
      background: { ...b, bytesPerSecond: Math.round((r.connections * b.chunkBytes * 1000) / b.intervalMs) },
      migrations: opts.migrations,
      rounds: opts.rounds,
      pipelinedAttach: opts.pipelinedAttach,
      failed: r.failed,
      connectToFirstByteMs: fig((x) => x.connectToFirstByteMs),
      connectToResumeMs: fig((x) => x.connectToResumeMs),
      attachToResumeMs: fig((x) => (x.phasesMs.resumed ?? NaN) - (x.phasesMs.attached ?? NaN)),
      requestToResumeMs: fig((x) => x.requestToResumeMs),
      clientRequestToTunnelMs: fig((x) => x.clientRequestToTunnelMs),
      runQueue: {
        proxyWaitMs: p50p99(s.map((x) => x.proxyRunQueueWaitMs)),
        clientWaitMs: p50p99(s.map((x) => x.clientRunQueueWaitMs)),
        connectToFirstByteLessProxyWaitMs: p50p99(s.map((x) => x.connectToFirstByteMs - Math.min(x.proxyRunQueueWaitMs, x.connectToFirstByteMs))),
        connectToFirstByteLessBothWaitsMs: p50p99(s.map((x) => x.connectToFirstByteMs - Math.min(x.proxyRunQueueWaitMs + x.clientRunQueueWaitMs, x.connectToFirstByteMs))),
      },
      migrationsWithReplay: s.filter((x) => x.bytesReplayed > 0).length,
      wrongBytes: r.wrongBytes,
      offsetMismatches: r.offsetMismatches,
      samples: s.map(compact),
    };
  } finally {
    await proxy.child.stop();
  }
}
