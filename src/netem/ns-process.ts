import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

export interface NsSpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** @default ['ignore', 'pipe', 'pipe'] */
  stdio?: StdioOptions;
  /** Raise the open-file limit first (`prlimit`), for processes that hold thousands of sockets. */
  maxOpenFiles?: number;
}

/**
 * Starts `file args` inside network namespace `ns` (`ip netns exec`, which execs the command, so
 * the child's pid is the command's own). With `maxOpenFiles`, goes through `prlimit` first.
 */
export function spawnInNamespace(ns: string, file: string, args: readonly string[], options: NsSpawnOptions = {}): ChildProcess {
  const cmd = options.maxOpenFiles
    ? ['prlimit', `--nofile=${options.maxOpenFiles}:${options.maxOpenFiles}`, file, ...args]
    : [file, ...args];
  return spawn('ip', ['netns', 'exec', ns, ...cmd], {
    env: options.env ?? process.env,
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts Node on inline ES-module source inside `ns`; `args` arrive as `process.argv.slice(1)`. */
export function spawnNodeCode(ns: string, code: string, args: readonly string[], options: NsSpawnOptions = {}): ChildProcess {
  return spawnInNamespace(ns, process.execPath, ['--input-type=module', '-e', code, '--', ...args], options);
}
