import { createInterface } from 'node:readline';
import { TimeoutError } from '../../common/errors.js';
import type { BenchChild } from './child-process.js';
import { ProxyBenchError } from './errors.js';

/** A request to a bench child: one JSON line on its stdin. */
interface Request {
  id: number;
  op: string;
  args: unknown;
}
/** Its answer: one JSON line on the child's stdout. */
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/**
 * Calls operations in a child process over JSON lines (stdin → child, stdout → parent), so the
 * load generator runs in its own process and event loop, apart from the proxy and the servers.
 */
export class JsonLinesClient {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly child: BenchChild) {
    child.stdoutLines.on('line', (line) => {
      let reply: Reply;
      try {
        reply = JSON.parse(line) as Reply;
      } catch {
        return; // not ours (a stray log line)
      }
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new ProxyBenchError(`${child.spec.name}: ${reply.error}`));
    });
    void child.exited.then(() => {
      for (const w of this.pending.values()) {
        w.reject(new ProxyBenchError(`${child.spec.name} exited: ${child.stderrTail()}`));
      }
      this.pending.clear();
    });
  }

  call<T>(op: string, args: unknown, timeoutMs: number): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TimeoutError(`${this.child.spec.name} ${op}`, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      const request: Request = { id, op, args };
      this.child.proc.stdin!.write(JSON.stringify(request) + '\n');
    });
  }
}

export type Handler = (args: any) => Promise<unknown>;

/** The child side: answers each request line with its handler's result. Exits when stdin ends. */
export function serveJsonLines(handlers: Record<string, Handler>): void {
  const reply = (r: Reply) => process.stdout.write(JSON.stringify(r) + '\n');
  createInterface({ input: process.stdin }).on('line', (line) => {
    let req: Request;
    try {
      req = JSON.parse(line) as Request;
    } catch {
      return;
    }
    const handler = handlers[req.op];
    if (!handler) return reply({ id: req.id, ok: false, error: `unknown op ${req.op}` });
    handler(req.args).then(
      (result) => reply({ id: req.id, ok: true, result }),
      (err: Error) => reply({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  // The parent went away: nothing left to serve.
  process.stdin.once('end', () => process.exit(0));
}
