import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface NsSpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** @default ['ignore', 'pipe', 'pipe'] */
  stdio?: StdioOptions;
  /**
   * Raise the open-file limit first (`prlimit`), for processes that hold thousands of sockets.
   * Clamped to this process's hard limit, the most an unprivileged raise can reach.
   */
  maxOpenFiles?: number;
  /**
   * Scheduling niceness (`nice -n`); negative needs root. Benchmarks use it so that other load on
   * a shared machine does not add milliseconds that are not the network's.
   */
  niceness?: number;
}

/**
 * Starts `file args` inside network namespace `ns` (`ip netns exec`, which execs the command, so
 * the child's pid is the command's own). With `maxOpenFiles`, goes through `prlimit` first.
 */
export function spawnInNamespace(ns: string, file: string, args: readonly string[], options: NsSpawnOptions = {}): ChildProcess {
  const nofile = options.maxOpenFiles ? Math.min(options.maxOpenFiles, openFilesHardLimit()) : 0;
  const cmd = nofile
    ? ['prlimit', `--nofile=${nofile}:${nofile}`, file, ...args]
    : [file, ...args];
  if (options.niceness) cmd.unshift('nice', '-n', String(options.niceness));
  return spawn('ip', ['netns', 'exec', ns, ...cmd], {
    env: options.env ?? process.env,
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts Node on inline ES-module source inside `ns`; `args` arrive as `process.argv.slice(1)`. */
export function spawnNodeCode(ns: string, code: string, args: readonly string[], options: NsSpawnOptions = {}): ChildProcess {
  return spawnInNamespace(ns, process.execPath, ['--input-type=module', '-e', code, '--', ...args], options);
}

/** RLIMIT_NOFILE's hard limit of this process, from /proc/self/limits (Node has no getrlimit). */
export function openFilesHardLimit(): number {
  try {
    const m = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m?.[1] === 'unlimited' ? 1 << 20 : Number(m?.[1] ?? 1024);
  } catch {
    return 1024;
  }
}
