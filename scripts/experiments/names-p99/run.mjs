// The name server's fixed-rate resolve figure alone (issue 3's p99 at 20,000/s), with the
// server's GC trace, for same-machine experiments:
//   node scripts/experiments/names-p99/run.mjs [rate] [seconds] [server node flags...]
// Prints the generator's result, the worst 100 ms windows, and the server's GC pauses ≥ 3 ms.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, createWriteStream, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../../dist/names/store/sqlite-store.js';
import { seed } from '../../../dist/bench/names-bench.js';
import { awaitListening } from '../../../dist/bench/names-proc.js';
import { runWsRateProcess } from '../../../dist/bench/names-ws-load.js';

const [rate = '20000', seconds = '8', ...nodeFlags] = process.argv.slice(2);
const COUNT = 100_000;
const KEY = 'bench-service-key-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'tsmp-names-p99-'));
let child;
try {
  const db = join(dir, 'names.db');
  const store = new SqliteStore({ path: db });
  await seed(store, COUNT);
  await store.close();
  const main = new URL('../../../dist/names/server-main.js', import.meta.url).pathname;
  child = spawn(process.execPath, ['--trace-gc', ...nodeFlags, main, 'nameserver', '--listen', '127.0.0.1:0', '--db', db, '--service-key', KEY], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSMP_LOG: 'warn' },
  });
  const trace = join(dir, 'gc.log');
  const url = await awaitListening(child, 'name server');
  child.stdout.pipe(createWriteStream(trace));
  const r = await runWsRateProcess({ url, kind: 'resolve', sockets: 4, ratePerSecond: Number(rate), warmupS: 1, durationS: Number(seconds), count: COUNT, serviceKey: KEY, seed: 0, timelineMs: 100 });
  const { timelineMaxMs, ...rest } = r;
  console.log(JSON.stringify(rest));
  console.log('worst 100 ms windows:', timelineMaxMs.map((x, i) => [i, Math.round(x)]).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([i, x]) => `#${i}:${x}`).join(' '));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const pauses = readFileSync(trace, 'utf8').split('\n').filter((l) => /(\d+\.\d+) \/ \d+\.\d+ ms/.test(l) && Number(/(\d+\.\d+) \/ \d+\.\d+ ms/.exec(l)[1]) >= 3);
  console.log(`server GC pauses ≥ 3 ms: ${pauses.length}`);
  for (const l of pauses.slice(0, 20)) console.log('  ' + l.trim().slice(0, 160));
} finally {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
