/**
 * Runs `tsmp nameserver` as a real process (needs npm run build). The entry script loads only the
 * name server's commands from dist/, so another part's unfinished CLI file cannot break it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ENTRY = join(import.meta.dirname, 'nameserver-entry.mjs');
const BUILT = join(import.meta.dirname, '../../dist/cli/commands/names.js');

const children = new Set<ChildProcess>();

/** Kills every process this file started that is still running (for afterAll). */
export function killAll(): void {
  for (const c of children) c.kill('SIGKILL');
}

export function startNameServerProcess(args: string[], timeoutMs = 15_000): Promise<{ child: ChildProcess; url: string }> {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build first`);
  const child = spawn(process.execPath, [ENTRY, 'nameserver', '--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TSMP_LOG: 'warn' },
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`name server did not start within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ child, url: m[1]! });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`name server exited with ${code}: ${err}`));
    });
  });
}
