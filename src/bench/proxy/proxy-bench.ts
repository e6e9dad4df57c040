/**
 * The proxy benchmark (issue 2, "Benchmark"): bulk throughput over 1 and 100 connections and
 * connections per second, each for a direct connection, haproxy in TCP mode and the tsmp proxy,
 * measured side by side in the same run; then migration latency with 1,000 connections open,
 * and RSS per idle relayed connection. Every process (source server, load generator, haproxy,
 * tsmp proxy) is a child of its own, so no two share an event loop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProxyBenchConfig } from './bench-config.js';
import { startLoadGenerator, startPipeRelay, startSourceServer } from './bench-processes.js';
import { effectiveNofile, stopAllChildren } from './child-process.js';
import { ensureHaproxy, haproxyMaxconn, startHaproxy } from './haproxy.js';
import { measureBulk, measureRate, type PerPath, type RelayFigure } from './measure-relay.js';
import { measureMigration, type MigrationFigure } from './measure-migration.js';
import { measureRss } from './measure-rss.js';
import { evaluateTargets, type TargetCheck } from './targets-check.js';
import type { Target } from './targets.js';
import { BENCH_DEVICES, BENCH_UID, startTsmpProxy } from './tsmp-proxy.js';

/** A figure that could not be measured keeps its place in the report with the reason. */
export type Maybe<T> = T | { error: string };

/** Bytes per chunk of the migration figure's pattern streams. */
const STREAM_CHUNK = 1024;

export interface ProxyBenchResult {
  bench: 'proxy';
  startedAt: string;
  finishedAt: string;
  config: ProxyBenchConfig;
  host: { cpus: number; kernel: string; node: string; loadavgBefore: number[]; loadavgAfter: number[]; loadAtEachFigure: Record<string, number> };
  haproxy: { version: string; threads: number; maxconn: number };
  /** The fd limit every child got. */
  limits: { nofile: number };
  tsmp: { command: string[] };
  throughput: Record<string, Maybe<RelayFigure>>;
  connectionRate: Maybe<RelayFigure>;
  /** Migration latency with the judged background (`config.migrationStreamIntervalMs`). */
  migration: Maybe<MigrationFigure>;
  /** The same with a tenth of the background (`config.migrationLightStreamIntervalMs`), not judged. */
  migrationLight?: Maybe<MigrationFigure>;
  rss: Maybe<Awaited<ReturnType<typeof measureRss>>>;
  targets: TargetCheck[];
}

/** Progress on stderr, so stdout carries only the table. */
const say = (line: string) => process.stderr.write(`[bench proxy] ${line}\n`);

/** The 1-minute load average when each figure started: how noisy the machine was. */
const loadDuring: Record<string, number> = {};

async function attempt<T>(what: string, f: () => Promise<T>): Promise<Maybe<T>> {
  const t0 = Date.now();
  loadDuring[what] = Number(loadavg()[0]!.toFixed(2));
  say(`${what} (load ${loadDuring[what]})`);
  try {
    const out = await f();
    say(`  ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return out;
  } catch (err) {
    const message = (err as Error).message.split('\n')[0]!;
    say(`${what} failed: ${message}`);
    return { error: message };
  }
}

export async function runProxyBench(config: ProxyBenchConfig): Promise<ProxyBenchResult> {
  const startedAt = new Date().toISOString();
  const loadavgBefore = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'tsmp-bench-'));
  const t = config.timeoutMs;
  const nofile = effectiveNofile();
  const maxconn = haproxyMaxconn(nofile);
  const limits = { nofile };
  try {
    const haproxyVersion = await ensureHaproxy();
    const source = await startSourceServer({ streamChunk: STREAM_CHUNK, streamIntervalMs: config.migrationStreamIntervalMs, timeoutMs: t });
    const { rpc: load } = await startLoadGenerator(t);
    const haproxy = await startHaproxy({ backendPort: source.port, threads: config.haproxyThreads, dir, timeoutMs: t, maxconn });
    const pipe = await startPipeRelay({ backendPort: source.port, timeoutMs: t });
    const tsmp = await startTsmpProxy({ dir, extraArgs: config.proxyArgs, timeoutMs: t });
    const targets: PerPath<Target> = {
      direct: { kind: 'direct', port: source.port },
      haproxy: { kind: 'haproxy', port: haproxy.port },
      pipe: { kind: 'pipe', port: pipe.port },
      tsmp: { kind: 'tsmp', port: tsmp.port, user: `phone.${BENCH_UID}`, pass: BENCH_DEVICES.phone, host: '127.0.0.1', destPort: source.port },
    };
    const ctx = { load, targets, repeats: config.repeats, timeoutMs: t };

    const throughput: Record<string, Maybe<RelayFigure>> = {};
    for (const n of config.bulkConnections) {
      throughput[String(n)] = await attempt(`bulk throughput, ${n} connection(s)`, () =>
        measureBulk(ctx, { connections: n, warmupMs: config.bulkWarmupMs, durationMs: config.bulkDurationMs }),
      );
    }
    const connectionRate = await attempt('connections per second', () =>
      measureRate(ctx, { concurrency: config.rateConcurrency, durationMs: config.rateDurationMs, warmupMs: config.rateWarmupMs }),
    );
    await Promise.all([haproxy.child.stop(), pipe.child.stop(), tsmp.child.stop()]);

    const migrationAt = (sourcePort: number, intervalMs: number) => {
      const kbs = (config.migrationConnections * STREAM_CHUNK) / intervalMs / 1.024;
      return attempt(`migration latency, ${config.migrationRounds} × ${config.migrations} migrations with ${config.migrationConnections} connections open carrying ${Math.round(kbs)} KiB/s in all`, () =>
        measureMigration({
          load, dir, proxyArgs: config.proxyArgs, sourcePort, stream: { chunkBytes: STREAM_CHUNK, intervalMs }, connections: config.migrationConnections,
          migrations: config.migrations, rounds: config.migrationRounds, timeoutMs: t, pipelinedAttach: config.migrationPipelined,
        }),
      );
    };
    const migration = await migrationAt(source.port, config.migrationStreamIntervalMs);
    // The same with a tenth of the background (not judged; docs/bench.md says why), on its own source server.
    let migrationLight: Maybe<MigrationFigure> | undefined;
    if (config.migrationLightStreamIntervalMs !== null) {
      const light = await startSourceServer({ streamChunk: STREAM_CHUNK, streamIntervalMs: config.migrationLightStreamIntervalMs, timeoutMs: t });
      try {
        migrationLight = await migrationAt(light.port, config.migrationLightStreamIntervalMs);
      } finally {
        await light.child.stop();
      }
    }
    const rss = await attempt(`RSS per idle connection at up to ${config.idleConnections} connections (fd limit ${nofile})`, () =>
      measureRss({
        load, dir, proxyArgs: config.proxyArgs, sourcePort: source.port, haproxyThreads: config.haproxyThreads, haproxyMaxconn: maxconn,
        connections: config.idleConnections, nofile, timeoutMs: t,
      }),
    );
    const partial = { throughput, connectionRate, migration, ...(migrationLight ? { migrationLight } : {}), rss };
    return {
      bench: 'proxy',
      startedAt,
      finishedAt: new Date().toISOString(),
      config,
      host: { cpus: cpus().length, kernel: release(), node: process.version, loadavgBefore, loadavgAfter: loadavg(), loadAtEachFigure: { ...loadDuring } },
      haproxy: { version: haproxyVersion, threads: config.haproxyThreads, maxconn },
      limits,
      tsmp: { command: tsmp.args },
      ...partial,
      targets: evaluateTargets(partial),
    };
  } finally {
    await stopAllChildren();
    rmSync(dir, { recursive: true, force: true });
  }
}
