import { ConfigError } from '../../common/errors.js';

/** What one run of the proxy benchmark measures, and how long it spends on each figure. */
export interface ProxyBenchConfig {
  quick: boolean;
  /** Rounds per figure; each round measures direct, haproxy and tsmp one after the other. */
  repeats: number;
  bulkConnections: readonly number[];
  bulkWarmupMs: number;
  bulkDurationMs: number;
  rateConcurrency: number;
  rateDurationMs: number;
  /**
   * An uncounted round of the connection rate per path before the counted ones, as JMH does for
   * JIT runtimes: a fresh Node proxy spends about twice the CPU per connection in its first
   * thousands of connections (docs/bench.md, "Connection rate, second look").
   */
  rateWarmupMs: number;
  migrationConnections: number;
  /**
   * How often each of the migration figure's open streams gets its 1 KiB chunk (ms): every 100 ms,
   * 1,000 streams carry 10 MB/s through the proxy while it migrates (the judged figure).
   */
  migrationStreamIntervalMs: number;
  /**
   * The same figure again with a tenth of that background (every 1,000 ms, 1 MB/s), reported and
   * not judged: it shows what the migration costs when the machine is not saturated (docs/bench.md,
   * "Migration p99: where the time goes"). null: not measured.
   */
  migrationLightStreamIntervalMs: number | null;
  /** Migrations per round. */
  migrations: number;
  migrationRounds: number;
  /**
   * The migration's target device sends SOCKS5 greeting, authentication and CONNECT in one write
   * (one round trip, as the tsmp agent does) rather than one per round trip (as curl does).
   */
  migrationPipelined: boolean;
  idleConnections: number;
  /** Threads of the haproxy baseline (the issue: `nbthread 2`). */
  haproxyThreads: number;
  /** Extra flags for `tsmp proxy` (e.g. a future `--workers 2`), reported with the figures. */
  proxyArgs: string[];
  /** Bound on any one wait (a dial, a control call, a child's start). */
  timeoutMs: number;
}

const FULL: Omit<ProxyBenchConfig, 'proxyArgs'> = {
  quick: false,
  repeats: 5,
  bulkConnections: [1, 100],
  bulkWarmupMs: 500,
  bulkDurationMs: 2000,
  rateConcurrency: 64,
  rateDurationMs: 2000,
  rateWarmupMs: 4000,
  migrationConnections: 1000,
  migrationStreamIntervalMs: 100,
  migrationLightStreamIntervalMs: 1000,
  migrations: 200,
  migrationRounds: 3,
  migrationPipelined: true,
  idleConnections: 10_000,
  haproxyThreads: 2,
  timeoutMs: 15_000,
};

const QUICK: Omit<ProxyBenchConfig, 'proxyArgs'> = {
  ...FULL,
  quick: true,
  repeats: 3,
  bulkWarmupMs: 250,
  bulkDurationMs: 1000,
  rateDurationMs: 1000,
  rateWarmupMs: 2000,
  migrationConnections: 300,
  migrations: 50,
  migrationRounds: 2,
  idleConnections: 3_000,
};

/**
 * Splits a flag string as a shell would for plain words and quotes (no expansion), so that
 * `TSMP_BENCH_PROXY_ARGS="--workers 2"` or `--proxy-args "--max-buffer 1MiB"` reach the proxy.
 */
export function splitArgs(text: string | undefined): string[] {
  if (!text?.trim()) return [];
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** Flags the bench itself sets; passing them again would contradict it. */
const RESERVED = ['--listen', '--control', '--users', '--nameserver'];

export function proxyBenchConfig(opts: { quick: boolean; proxyArgs?: string }): ProxyBenchConfig {
  const proxyArgs = [...splitArgs(process.env.TSMP_BENCH_PROXY_ARGS), ...splitArgs(opts.proxyArgs)];
  const clash = proxyArgs.find((a) => RESERVED.includes(a.split('=')[0]!));
  if (clash) throw new ConfigError(`${clash} is set by the bench itself; it cannot be passed in the proxy args`);
  return { ...(opts.quick ? QUICK : FULL), proxyArgs };
}
