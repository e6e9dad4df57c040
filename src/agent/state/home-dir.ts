import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { AgentStateError } from '../errors.js';

/** `--home` when not given (issue 4). `$TSMP_HOME` overrides it, for tests and several agents on one host. */
export function defaultHome(): string {
  return process.env.TSMP_HOME ?? join(homedir(), '.tsmp');
}

/**
 * The agent's state directory: 0700, with its secrets in 0600 files (credentials, the runtime
 * file with the dashboard secret). Every write goes to a temporary file first and is renamed, so
 * a crash never leaves half a file.
 */
export class HomeDir {
  readonly path: string;

  constructor(path: string = defaultHome()) {
    this.path = resolve(path);
  }

  ensure(): this {
    // Created 0700. An existing directory is left as it is (`--home /tmp/x` must not chmod /tmp);
    // the secrets in it are 0600 files whatever the directory's mode.
    mkdirSync(this.path, { recursive: true, mode: 0o700 });
    return this;
  }

  file(name: string): string {
    return join(this.path, name);
  }

  exists(name: string): boolean {
    return existsSync(this.file(name));
  }

  /** Reads and validates a JSON file; undefined when it does not exist. */
  readJson<T>(name: string, schema: z.ZodType<T>, options: { secret?: boolean } = {}): T | undefined {
    const path = this.file(name);
    if (!existsSync(path)) return undefined;
    if (options.secret) {
      const mode = statSync(path).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new AgentStateError('ERR_STATE_PERMISSIONS', `${path} is readable by others (mode ${mode.toString(8)}); run chmod 600 on it`);
      }
    }
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new AgentStateError('ERR_STATE_FILE', `${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AgentStateError('ERR_STATE_FILE', `${path}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
    }
    return parsed.data;
  }

  /** Writes JSON atomically; `secret` files get mode 0600 from their creation on. */
  writeJson(name: string, value: unknown, options: { secret?: boolean } = {}): void {
    this.ensure();
    const path = this.file(name);
    const tmp = `${path}.${process.pid}.tmp`;
    const mode = options.secret ? 0o600 : 0o644;
    writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  }

  subdir(name: string): string {
    const dir = this.file(name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }
}
