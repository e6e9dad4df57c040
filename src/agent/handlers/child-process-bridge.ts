import { spawn, type ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/logger.js';
import type { ResumedStream } from './handler-types.js';

/** Longest stderr line a handler command may log; longer lines are cut (bounded buffer). */
const MAX_STDERR_LINE = 4096;

/**
 * The environment a handler command sees: how the migration reached it, and the exported
 * snapshot as JSON, so a command can import state just as an in-process migration-aware app does.
 */
export function migrationEnv(resumed: ResumedStream, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TSMP_MIGRATION: resumed.migration,
    TSMP_CONNECTION: resumed.connection,
    TSMP_DESTINATION: resumed.destination,
    ...extra,
  };
  if (resumed.from) env.TSMP_FROM = resumed.from;
  if (resumed.app) env.TSMP_APP = resumed.app;
  if (resumed.snapshot !== undefined) env.TSMP_SNAPSHOT = JSON.stringify(resumed.snapshot);
  return env;
}

/** Runs `command` under `sh -c`, logging its stderr line by line. */
export function spawnShell(command: string, env: NodeJS.ProcessEnv, logger: Logger, stdin: 'pipe' | 'ignore'): ChildProcess {
  const child = spawn('/bin/sh', ['-c', command], { env, stdio: [stdin, 'pipe', 'pipe'] });
  let partial = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = (lines.pop() ?? '').slice(0, MAX_STDERR_LINE);
    for (const line of lines) logger.info({ command }, `stderr: ${line.slice(0, MAX_STDERR_LINE)}`);
  });
  return child;
}

/** Settles with the exit code (null when killed by a signal) once the child's stdio is closed. */
export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
}

/**
 * Wires stream → child stdin and child stdout → stream, counting bytes. The child may exit before
 * it reads everything; writes to its closed stdin (EPIPE) are then dropped rather than crashing.
 */
export function bridge(stream: Duplex, child: ChildProcess): { counts: () => { bytesIn: number; bytesOut: number } } {
  let bytesIn = 0;
  let bytesOut = 0;
  const stdin = child.stdin;
  const stdout = child.stdout;
  if (stdin) {
    stdin.on('error', () => stream.unpipe(stdin));
    stream.on('data', (chunk: Buffer) => {
      bytesIn += chunk.length;
    });
    stream.pipe(stdin);
  }
  if (stdout) {
    stdout.on('data', (chunk: Buffer) => {
      bytesOut += chunk.length;
    });
    stdout.pipe(stream);
  }
  return { counts: () => ({ bytesIn, bytesOut }) };
}
