import { runCommand, runCommandSync } from './run-command.js';
import { NETEM_PREFIX, ownerPid } from './run-names.js';

/**
 * Guaranteed teardown. Every live topology registers a synchronous teardown here; it runs on a
 * normal `down()`, on process exit, and on SIGINT/SIGTERM/SIGHUP, so a run leaves nothing behind
 * however it ends. (A SIGKILL cannot be caught: `cleanupStale` covers that case on the next run.)
 */
const live = new Map<string, () => void>();
let hooked = false;

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

function runAll(): void {
  for (const [key, teardown] of [...live]) {
    live.delete(key);
    try {
      teardown();
    } catch {
      // Keep going: one failed teardown must not leave the others' namespaces behind.
    }
  }
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', runAll);
  for (const [sig, num] of Object.entries(SIGNALS)) {
    process.on(sig, () => {
      runAll();
      // We were the one listener: restore the default outcome of the signal.
      if (process.listenerCount(sig) <= 1) process.exit(128 + num);
    });
  }
}

export function registerTeardown(key: string, teardown: () => void): void {
  hook();
  live.set(key, teardown);
}

/** Runs and forgets one registered teardown. */
export function runTeardown(key: string): void {
  const t = live.get(key);
  live.delete(key);
  t?.();
}

/** Kills every process still inside the namespaces, then deletes them (and with them their veths). */
export function deleteNamespacesSync(namespaces: readonly string[]): void {
  for (const ns of namespaces) {
    const pids = runCommandSync('ip', ['netns', 'pids', ns], { allowFailure: true }).stdout.split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
  if (namespaces.length === 0) return;
  runCommandSync('ip', ['-force', '-batch', '-'], {
    input: namespaces.map((ns) => `netns delete ${ns}\n`).join(''),
    allowFailure: true,
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Names from `ip netns list` (which prints `name (id: N)` for namespaces with an id). */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await runCommand('ip', ['netns', 'list'], { allowFailure: true });
  return stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
}

/**
 * Removes what a crashed run left behind: every namespace whose name starts with `prefix`. With
 * the generic prefix (`tn-`), only runs whose owner process is gone are removed, so a parallel
 * live run is never touched; with one run's own prefix, that run's namespaces go regardless.
 * Returns the namespaces removed.
 */
export async function cleanupStale(prefix = NETEM_PREFIX): Promise<string[]> {
  const generic = prefix === NETEM_PREFIX;
  const stale = (await listNamespaces()).filter((ns) => {
    if (!ns.startsWith(prefix)) return false;
    if (!generic) return true;
    const pid = ownerPid(ns);
    return pid !== null && pid !== process.pid && !alive(pid);
  });
  deleteNamespacesSync(stale);
  return stale;
}
