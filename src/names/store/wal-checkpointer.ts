/**
 * WAL checkpoints off the event loop (docs/names.md, "Presence in memory" and "Performance").
 *
 * By default SQLite checkpoints inside the COMMIT that takes the WAL past 1000 pages
 * (https://sqlite.org/c3ref/wal_autocheckpoint.html): that commit copies the pages into the
 * database and syncs both files, which with better-sqlite3's synchronous API stalls the whole
 * event loop — 5–6 ms every ~90 heartbeat commits on this machine, each one charged to every
 * request waiting behind it. SQLite's documentation names the alternative: turn the automatic
 * checkpoints off and run them from a separate thread
 * (https://sqlite.org/wal.html#application_initiated_checkpoints). A worker thread with its own
 * connection runs `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs`; PASSIVE never waits for
 * readers or writers and takes no write lock, so the main connection's commits go on meanwhile
 * (https://sqlite.org/c3ref/wal_checkpoint_v2.html).
 *
 * Durability does not change: a commit is in the WAL when it returns, whoever checkpoints. The
 * main connection keeps an automatic checkpoint at a higher bound as a safety net (the WAL never
 * grows without bound if the worker falls behind), and goes back to SQLite's default if the
 * worker fails.
 *
 * The worker is an `eval` worker given better-sqlite3's resolved path, so it runs the same
 * from dist/ and from the TypeScript sources under the test runner.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

export interface WalCheckpointerOptions {
  /** How often the worker checkpoints. @default 100 */
  intervalMs?: number;
  /** The main connection's own automatic checkpoint while the worker runs (pages). @default 10000 */
  safetyNetPages?: number;
}

/** SQLite's default automatic checkpoint, restored if the worker fails. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch (err) {
    // SQLITE_BUSY (another checkpoint running): the next tick tries again.
    if (err && err.code !== 'SQLITE_BUSY' && err.code !== 'SQLITE_LOCKED') throw err;
  }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort.postMessage('closed');
});
`;

export class WalCheckpointer {
  private readonly worker: Worker;
  private stopped = false;

  constructor(
    private readonly db: Database.Database,
    path: string,
    opts: WalCheckpointerOptions = {},
  ) {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    db.pragma(`wal_autocheckpoint = ${opts.safetyNetPages ?? 10_000}`);
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sqlite, path, intervalMs: opts.intervalMs ?? 100 } });
    this.worker.unref();
    const fallBack = () => {
      if (this.stopped) return;
      this.stopped = true;
      if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
    };
    this.worker.once('error', fallBack);
    this.worker.once('exit', fallBack);
  }

  /** Whether the worker is checkpointing (false once it failed or was stopped). */
  get running(): boolean {
    return !this.stopped;
  }

  /** Closes the worker's connection first, so the main connection's close can remove the WAL. */
  async stop(timeoutMs = 2000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const closed = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.worker.once('message', () => {
        clearTimeout(t);
        resolve();
      });
      this.worker.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.worker.postMessage('close');
    await closed;
    await this.worker.terminate();
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
  }
}
