import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const OUT_DIR = join(ROOT, 'node_modules/.cache/tsmp-mtcp-test');

let bundled: Promise<string> | undefined;

/**
 * Bundles the child entry (TypeScript) to one ESM file with rolldown (already installed with
 * vitest), so a member runs as a real process that SIGKILL can end. pino stays external and resolves
 * from the project's node_modules (the bundle is written under it).
 */
export function memberScript(): Promise<string> {
  bundled ??= (async () => {
    mkdirSync(OUT_DIR, { recursive: true });
    const { build } = await import('rolldown');
    const file = join(OUT_DIR, `member-${process.pid}.mjs`);
    const options: import('rolldown').BuildOptions = {
      input: join(ROOT, 'test/mtcp/support/member-main.ts'),
      platform: 'node',
      // Bundling the packages too (one file, tree-shaken) makes a member start several times faster.
      external: (id: string) => id.startsWith('node:') || id === 'pino' || id === 'ioredis',
      output: { file, format: 'esm', inlineDynamicImports: true },
      logLevel: 'silent',
    };
    await build(options);
    return file;
  })();
  return bundled;
}

export interface MemberProcess {
  id: string;
  child: ChildProcess;
  exited: Promise<void>;
}

/** Starts one member and waits for its "listening" line (bounded). */
export async function spawnMember(poolFile: string, id: string, rate?: number, timeoutMs = 30_000): Promise<MemberProcess> {
  const script = await memberScript();
  const child = spawn(process.execPath, [script, poolFile, id, ...(rate ? [String(rate)] : [])], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TSMP_LOG: 'silent' } });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`member ${id} did not start within ${timeoutMs} ms`)), timeoutMs);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('listening')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`member ${id} exited with ${code}`));
    });
  });
  return { id, child, exited };
}

export async function killMember(m: MemberProcess): Promise<void> {
  if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
  await m.exited;
}
