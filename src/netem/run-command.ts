import { execFile, execFileSync } from 'node:child_process';
import { NetemCommandError } from './errors.js';

/** Default bound on one `ip`/`tc` invocation; they normally take a few milliseconds. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;

export interface RunOptions {
  /** Text written to the command's stdin (e.g. an `ip -batch -` script). */
  input?: string;
  /** @default DEFAULT_COMMAND_TIMEOUT_MS */
  timeoutMs?: number;
  /** Resolve instead of throwing on a non-zero exit. @default false */
  allowFailure?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a command without a shell; rejects with `NetemCommandError` on failure. */
export function runCommand(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeout = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout, maxBuffer: 16 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      if (err && !options.allowFailure) {
        reject(new NetemCommandError(`${file} ${args.join(' ')}`, stderr || err.message, { cause: err }));
        return;
      }
      resolve({ stdout, stderr, code });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/**
 * Synchronous twin of `runCommand`, for the teardown paths that run inside `process.on('exit')`
 * and signal handlers, where no promise will ever settle.
 */
export function runCommandSync(file: string, args: readonly string[], options: RunOptions = {}): RunResult {
  try {
    const stdout = execFileSync(file, args, {
      timeout: options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      input: options.input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return { stdout, stderr: '', code: 0 };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string; message: string };
    if (!options.allowFailure) {
      throw new NetemCommandError(`${file} ${args.join(' ')}`, e.stderr || e.message, { cause: err });
    }
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.status ?? 1 };
  }
}
