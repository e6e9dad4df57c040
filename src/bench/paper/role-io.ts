import { createInterface } from 'node:readline';

/**
 * The side of a JSON-lines role process (alice, device, push, background) that runs inside a
 * namespace. Times are epoch milliseconds with sub-millisecond precision: every namespace shares
 * the machine's clock, so the orchestrator can subtract times taken by different processes.
 */
export function nowMs(): number {
  // Date.now(), not performance.timeOrigin + now(): the proxy stamps its phases with Date.now(),
  // and the two clocks of different processes can disagree by milliseconds.
  return Date.now();
}

export function emit(ev: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ ev, t: nowMs(), ...fields }) + '\n');
}

export function fail(err: unknown): void {
  emit('error', { message: err instanceof Error ? err.message : String(err) });
}

/** Calls `handle` for each JSON command line on stdin; exits when stdin closes. */
export function onCommands(handle: (cmd: Record<string, unknown>) => Promise<void> | void): void {
  createInterface({ input: process.stdin }).on('line', (line) => {
    let cmd: Record<string, unknown>;
    try {
      cmd = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    Promise.resolve(handle(cmd)).catch(fail);
  }).on('close', () => process.exit(0));
}
