import type { JsonLinesClient } from './json-lines.js';
import type { MigrateResult } from './load-migrate.js';
import { distribution, type Distribution } from './stats.js';
import { BENCH_DEVICES, BENCH_UID, startTsmpProxy } from './tsmp-proxy.js';

export interface MigrationFigure {
  connectionsOpen: number;
  migrations: number;
  failed: number;
  /** Proxy timings (ms): target's TCP connect accepted → first replayed byte written. */
  connectToFirstByteMs: Distribution;
  /** Proxy timings (ms): target's TCP connect accepted → server side read again. */
  connectToResumeMs: Distribution;
  /** Proxy timings (ms): migrate request → server side read again (includes the client's dial). */
  requestToResumeMs: Distribution;
  /** Client view (ms): POST /migrate sent → target's SOCKS5 tunnel open. */
  clientRequestToTunnelMs: Distribution;
  migrationsWithReplay: number;
  wrongBytes: number;
  offsetMismatches: number;
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
  connections: number;
  migrations: number;
  timeoutMs: number;
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
        timeoutMs: opts.timeoutMs,
      },
      // opening the streams, then each migration bounded on its own
      (opts.migrations + 10) * opts.timeoutMs,
    );
    const pick = (k: keyof MigrateResult['samples'][number]) => r.samples.map((s) => s[k]);
    return {
      connectionsOpen: r.connections,
      migrations: r.samples.length,
      failed: r.failed,
      connectToFirstByteMs: distribution(pick('connectToFirstByteMs')),
      connectToResumeMs: distribution(pick('connectToResumeMs')),
      requestToResumeMs: distribution(pick('requestToResumeMs')),
      clientRequestToTunnelMs: distribution(pick('clientRequestToTunnelMs')),
      migrationsWithReplay: r.samples.filter((s) => s.bytesReplayed > 0).length,
      wrongBytes: r.wrongBytes,
      offsetMismatches: r.offsetMismatches,
    };
  } finally {
    await proxy.child.stop();
  }
}
