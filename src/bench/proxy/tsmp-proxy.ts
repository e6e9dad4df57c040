import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchChild } from './child-process.js';
import { CLI_MAIN } from './bench-processes.js';

export const BENCH_UID = 'bench@example.org';
export const BENCH_DEVICES = { phone: 'bench-phone-token-0123456789', pc: 'bench-pc-token-0123456789' };

export interface RunningTsmpProxy {
  child: BenchChild;
  port: number;
  controlUrl: string;
  /** The exact command line after `node dist/cli/main.js`. */
  args: string[];
}

/**
 * Starts `tsmp proxy` as a child process on ephemeral ports, with a users file holding the
 * bench's two devices, plus any extra flags (`TSMP_BENCH_PROXY_ARGS`, `--proxy-args`).
 * Logging is turned down to warnings unless TSMP_LOG says otherwise: a log line per migration
 * on a pipe would measure the pipe.
 */
export async function startTsmpProxy(opts: { dir: string; extraArgs: string[]; timeoutMs: number }): Promise<RunningTsmpProxy> {
  const users = join(opts.dir, 'users.json');
  writeFileSync(users, JSON.stringify({ [BENCH_UID]: BENCH_DEVICES }));
  const args = ['proxy', '--listen', '127.0.0.1:0', '--control', '127.0.0.1:0', '--users', users, ...opts.extraArgs];
  const child = new BenchChild({
    name: 'tsmp proxy',
    command: process.execPath,
    // TSMP_BENCH_PROXY_NODE_ARGS: Node flags for the proxy alone, e.g. "--cpu-prof" in experiments.
    args: [...(process.env.TSMP_BENCH_PROXY_NODE_ARGS?.split(' ').filter(Boolean) ?? []), CLI_MAIN, ...args],
    env: { ...process.env, TSMP_LOG: process.env.TSMP_LOG ?? 'warn' },
  });
  // "tsmp proxy: devices on 127.0.0.1:PORT, control API on http://127.0.0.1:PORT"
  const bound = await child.waitForLine(
    (line) => {
      const m = /devices on [^\s,]*:(\d+), control API on (https?:\/\/[^\s]+:\d+)/.exec(line);
      return m ? { port: Number(m[1]), controlUrl: m[2]! } : undefined;
    },
    'its ports',
    opts.timeoutMs,
  );
  return { child, ...bound, args: args.map((a) => (a === users ? 'USERS.json' : a)) };
}
