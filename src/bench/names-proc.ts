/** Child processes of the name-server benchmark: their CPU time (cost per request) and start-up. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU time of a process in µs from /proc/PID/stat (utime + stime, clock ticks of 10 ms); null off Linux. */
export function cpuMicros(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}

/**
 * The URL a bench child prints as `listening on URL` on stdout. Rejects if it exits first or
 * prints nothing of the kind within `timeoutMs`; `stderrTail` says why when it has a stderr pipe.
 */
export function awaitListening(child: ChildProcess, label: string, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const t = setTimeout(() => reject(new Error(`${label} did not start within ${timeoutMs} ms: ${err}`)), timeoutMs);
    child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${label} exited with ${code}: ${err}`));
    });
  });
}

/**
 * The `main` of a bench child (`node dist/bench/X-child.js SPEC-JSON`): when `moduleUrl` is the
 * script node was started with, runs `run` on the JSON spec in argv[2] and prints its result as
 * one JSON line, or the error on stderr with exit code 1. Imported as a module, it does nothing.
 */
export function runAsJsonChild<S, R>(moduleUrl: string, run: (spec: S) => Promise<R>): void {
  if (!process.argv[1] || !moduleUrl.endsWith(process.argv[1].replace(/\\/g, '/'))) return;
  run(JSON.parse(process.argv[2]!) as S).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
