import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const OUT_DIR = join(ROOT, 'node_modules/.cache/tsmp-mtcp-test');

let bundled: Promise<string> | undefined;

/**
 * ioredis is imported statically once rolldown inlines the store factory's dynamic import; this
 * stand-in loads it only when a Redis store is built, which cuts a member's start by a third.
 */
const LAZY_IOREDIS = `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
export class Redis { constructor(...args) { return new (require('ioredis').Redis)(...args); } }`;

/**
 * Bundles the child entry (TypeScript) to one ESM file with rolldown (already installed with
 * vitest), so a member runs as a real process that SIGKILL can end. Everything but Node's own
 * modules goes into the bundle (pino too: loading it through the CJS loader cost a quarter of a
 * member's start); the file is written under node_modules so that lazy requires still resolve.
 */
export function memberScript(): Promise<string> {
  bundled ??= (async () => {
    mkdirSync(OUT_DIR, { recursive: true });
    const { build } = await import('rolldown');
    const file = join(OUT_DIR, `member-${process.pid}.mjs`);
    const options: import('rolldown').BuildOptions = {
      input: join(ROOT, 'test/mtcp/support/member-main.ts'),
      platform: 'node',
      plugins: [
        {
          name: 'lazy-ioredis',
          resolveId: (id: string) => (id === 'ioredis' ? '\0lazy-ioredis' : null),
          load: (id: string) => (id === '\0lazy-ioredis' ? LAZY_IOREDIS : null),
        },
      ],
      // Bundling the packages too (one file, tree-shaken) makes a member start several times faster.
      external: (id: string) => id.startsWith('node:'),
      output: { file, format: 'esm', codeSplitting: false },
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

/**
 * `MTCP_MEMBER_LOG_DIR=/some/dir` keeps each member's debug log there (one file per process) and
 * reports how members exit: for chasing a failure, not for CI.
 */
function startChild(script: string, args: string[], label: string): { child: ChildProcess; exited: Promise<void> } {
  const debugDir = process.env.MTCP_MEMBER_LOG_DIR;
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['pipe', 'pipe', debugDir ? 'pipe' : 'inherit'],
    env: { ...process.env, TSMP_LOG: debugDir ? 'debug' : 'silent' },
  });
  if (debugDir) child.stderr!.pipe(createWriteStream(join(debugDir, `${label}-${child.pid}.log`)));
  const exited = new Promise<void>((r) =>
    child.once('exit', (code, signal) => {
      if (debugDir) console.log(`member ${label} pid ${child.pid} exited code=${code} signal=${signal}`);
      r();
    }),
  );
  return { child, exited };
}

/** Resolves when the child printed `word` on stdout; rejects on exit or after `timeoutMs`. */
function awaitLine(child: ChildProcess, word: string, what: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => finish(new Error(`${what} did not start within ${timeoutMs} ms`)), timeoutMs);
    let out = '';
    const onData = (c: Buffer): void => {
      out += c.toString();
      if (out.includes(word)) finish();
    };
    const onExit = (code: number | null): void => finish(new Error(`${what} exited with ${code}`));
    const finish = (err?: Error): void => {
      clearTimeout(t);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Starts one member and waits for its "listening" line (bounded). */
export async function spawnMember(poolFile: string, id: string, rate?: number, timeoutMs = 30_000): Promise<MemberProcess> {
  const script = await memberScript();
  const { child, exited } = startChild(script, [poolFile, id, ...(rate ? [String(rate)] : [])], id);
  try {
    await awaitLine(child, 'listening', `member ${id}`, timeoutMs);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { id, child, exited };
}

export async function killMember(m: MemberProcess): Promise<void> {
  if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
  await m.exited;
}

/**
 * Warm spares: member processes that have loaded the kit and wait to be told which member to be.
 * A Node process takes 0.3–1 s to start on a loaded 2-core machine; a spare listens a few ms after
 * `take`, so a killed member is replaced at once while new spares start in the background
 * (`size` kept ready or starting).
 */
export class SparePool {
  private readonly ready: Array<Promise<{ child: ChildProcess; exited: Promise<void> }>> = [];
  private readonly all = new Set<ChildProcess>();
  private closed = false;

  constructor(
    private readonly poolFile: string,
    private readonly rate: number | undefined,
    private readonly size = 3,
    private readonly timeoutMs = 30_000,
  ) {}

  /** Starts spares up to `size` (call once; `take` tops up). */
  fill(): void {
    while (!this.closed && this.ready.length < this.size) this.ready.push(this.startSpare());
  }

  private async startSpare(): Promise<{ child: ChildProcess; exited: Promise<void> }> {
    const script = await memberScript();
    const s = startChild(script, ['--standby', this.poolFile, ...(this.rate ? [String(this.rate)] : [])], 'spare');
    this.all.add(s.child);
    void s.exited.then(() => this.all.delete(s.child));
    await awaitLine(s.child, 'standby', 'spare member', this.timeoutMs);
    return s;
  }

  /** Makes the oldest spare member `id` (its port must be free) and waits until it listens. */
  async take(id: string): Promise<MemberProcess> {
    if (this.ready.length === 0) this.fill();
    const spare = this.ready.shift()!;
    this.fill();
    const s = await spare;
    const listening = awaitLine(s.child, 'listening', `member ${id}`, this.timeoutMs);
    s.child.stdin!.write(`${id}\n`);
    await listening;
    return { id, child: s.child, exited: s.exited };
  }

  async close(): Promise<void> {
    this.closed = true;
    const waits = [...this.all].map((c) => {
      const gone = new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));
      c.kill('SIGKILL');
      return gone;
    });
    await Promise.all(waits);
    await Promise.allSettled(this.ready.splice(0));
  }
}
