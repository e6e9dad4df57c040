import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { TimeoutError } from '../../common/errors.js';
import { ProxyBenchError } from './errors.js';

/** The machine's default fd limit (20,000) is too low for 10,000 relayed connections. */
export const BENCH_NOFILE = 200_000;
/** Raise the soft limit to BENCH_NOFILE, or as far as the hard limit allows without CAP_SYS_RESOURCE. */
const ULIMIT = `ulimit -n ${BENCH_NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"`;

/**
 * The fd limit the children really get. Raising the hard limit needs CAP_SYS_RESOURCE, which a
 * container's root may lack: then it stays at the machine's limit, and the bench sizes its
 * figures (idle connections, haproxy maxconn) to fit.
 */
export function effectiveNofile(): number {
  return Number(execFileSync('bash', ['-c', `${ULIMIT}; ulimit -n`], { encoding: 'utf8', timeout: 10_000 }).trim());
}
const STDERR_TAIL = 4096;
const KILL_GRACE_MS = 2000;

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Extra file descriptors handed to the child as fd 3, 4, … (e.g. listening sockets). */
  fds?: number[];
}

/** Every child still alive, so that they are all killed at the end, even on error. */
const live = new Set<BenchChild>();

/**
 * One child process of the bench. It is started through `bash -c 'ulimit -n …; exec …'` so
 * that the pid is the program's own (for VmRSS) and its fd limit is raised (we run as root).
 */
export class BenchChild {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  /** The child's stdout, line by line; one reader shared by every consumer. */
  readonly stdoutLines: Interface;
  private tail = '';
  private exitCode: number | null | undefined;

  constructor(readonly spec: ChildSpec) {
    const script = `${ULIMIT}; exec "$@"`;
    this.proc = spawn('bash', ['-c', script, 'bench-child', spec.command, ...spec.args], {
      env: spec.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe', ...(spec.fds ?? [])],
    });
    live.add(this);
    this.stdoutLines = createInterface({ input: this.proc.stdout! });
    // Drained all the time: a full stderr pipe would block the child.
    this.proc.stderr!.on('data', (c: Buffer) => {
      this.tail = (this.tail + c.toString()).slice(-STDERR_TAIL);
    });
    this.proc.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        live.delete(this);
        resolve(this.exitCode);
      });
      this.proc.once('error', (err) => {
        this.tail += `\nspawn error: ${err.message}`;
        this.exitCode = -1;
        live.delete(this);
        resolve(-1);
      });
    });
  }

  get pid(): number {
    if (this.proc.pid === undefined) throw new ProxyBenchError(`${this.spec.name} did not start: ${this.stderrTail()}`);
    return this.proc.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  stderrTail(): string {
    return this.tail.trim().slice(-1000);
  }

  /** Resolves with the first stdout line that `match` accepts; rejects on exit or timeout. */
  waitForLine<T>(match: (line: string) => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const lines = this.stdoutLines;
      const finish = (f: () => void) => {
        clearTimeout(timer);
        lines.off('line', onLine);
        this.proc.off('exit', onExit);
        f();
      };
      const onLine = (line: string) => {
        const hit = match(line);
        if (hit !== undefined) finish(() => resolve(hit));
      };
      const onExit = () =>
        finish(() => reject(new ProxyBenchError(`${this.spec.name} exited while waiting for ${what}: ${this.stderrTail()}`)));
      const timer = setTimeout(
        () => finish(() => reject(new TimeoutError(`${this.spec.name}: ${what}`, timeoutMs))),
        timeoutMs,
      );
      lines.on('line', onLine);
      if (!this.running) onExit();
      else this.proc.once('exit', onExit);
    });
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  async stop(graceMs = KILL_GRACE_MS): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Stops every child still running (the bench's `finally`). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop()));
}

// Last resort when the bench dies abruptly: no child outlives it.
process.once('exit', () => {
  for (const c of live) c.proc.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void stopAllChildren().finally(() => process.exit(130));
  });
}
