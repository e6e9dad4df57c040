/**
 * The load generator of the proxy benchmark, as its own process: the parent sends it one JSON
 * line per measurement (`json-lines.ts`) and gets the figures back. Keeping it apart from the
 * proxy and the source server means no two of them share an event loop.
 *
 *   node dist/bench/proxy/load-main.js      (driven by proxy-bench.ts, not by hand)
 */
import { runBulk } from './load-bulk.js';
import { openIdle, releaseIdle } from './load-idle.js';
import { runMigrations } from './load-migrate.js';
import { runRate } from './load-rate.js';
import { serveJsonLines } from './json-lines.js';

serveJsonLines({
  bulk: runBulk,
  rate: runRate,
  openIdle,
  releaseIdle,
  migrate: runMigrations,
  ping: async () => ({ pid: process.pid }),
});
process.once('SIGTERM', () => process.exit(0));
