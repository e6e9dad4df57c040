import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MALLORY, TOKENS, UID } from './proxy-harness.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** `tsmp proxy` as a real process (the built CLI), with Bob's and Mallory's devices. */
export async function spawnProxy(extraArgs: string[]): Promise<{ port: number; controlUrl: string; child: ChildProcess; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tsmp-proxy-'));
  const users = join(dir, 'users.json');
  writeFileSync(users, JSON.stringify({ [UID]: TOKENS, [MALLORY.uid]: { laptop: MALLORY.token } }));
  const child = spawn(process.execPath, [CLI, 'proxy', '--listen', '127.0.0.1:0', '--control', '127.0.0.1:0', '--users', users, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TSMP_LOG: 'warn' },
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (out += t));
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (err += t));
  const started = Date.now();
  while (!/devices on [\d.]+:(\d+), control API on (http\S+)/.test(out)) {
    if (child.exitCode !== null || Date.now() - started > 30_000) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`tsmp proxy did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = /devices on [\d.]+:(\d+), control API on (http\S+?)(?:\s|$)/.exec(out)!;
  return {
    port: Number(m[1]),
    controlUrl: m[2]!,
    child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
