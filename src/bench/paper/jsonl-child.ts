import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { TimeoutError } from '../../common/errors.js';
import { BenchError } from './bench-error.js';

export type Event = Record<string, unknown> & { ev: string };

/**
 * A child process spoken to in JSON lines: commands on its stdin, events on its stdout. Events
 * are kept (bounded) so a waiter that arrives late still sees an event that already happened.
 */
export class JsonlChild {
  private readonly events: Event[] = [];
  private readonly waiters = new Set<() => void>();
  private stderr = '';
  private exited: number | null = null;

  constructor(readonly name: string, readonly child: ChildProcess, private readonly maxEvents = 10_000) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let ev: Event;
      try {
        ev = JSON.parse(line) as Event;
      } catch {
        return;
      }
      if (this.events.length >= this.maxEvents) this.events.shift();
      this.events.push(ev);
      for (const w of [...this.waiters]) w();
    });
    child.stderr?.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString()).slice(-8192);
    });
    child.once('exit', (code) => {
      this.exited = code ?? -1;
      for (const w of [...this.waiters]) w();
    });
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin?.write(JSON.stringify(command) + '\n');
  }

  /** Resolves with the first event (seen before or after the call) that matches. */
  waitFor(match: (e: Event) => boolean, what: string, timeoutMs: number): Promise<Event> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.events.find(match);
        if (hit) return done(() => resolve(hit));
        const err = this.events.find((e) => e.ev === 'error');
        if (err) return done(() => reject(new BenchError(`${this.name}: ${String(err.message)}`)));
        if (this.exited !== null) return done(() => reject(new BenchError(`${this.name} exited (${this.exited}) while waiting for ${what}: ${this.stderr.trim().slice(-500)}`)));
      };
      const timer = setTimeout(() => done(() => reject(new TimeoutError(`${this.name}: ${what}`, timeoutMs))), timeoutMs);
      const done = (f: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        f();
      };
      this.waiters.add(check);
      check();
    });
  }

  all(ev: string): Event[] {
    return this.events.filter((e) => e.ev === ev);
  }

  stderrTail(): string {
    return this.stderr;
  }
}
