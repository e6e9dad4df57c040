import { TsmpError } from '../../common/errors.js';
import { TimeoutError } from '../../common/errors.js';
import type { JsonValue } from '../app-api.js';

/** docs/CONTRACTS.md, `Connection`. */
export interface ProxyConnection {
  id: string;
  uid: string;
  device: string | null;
  destination: string;
  protocol: 'socks5' | 'http-connect';
  state: 'relaying' | 'migrating' | 'detached' | 'closed';
  bytesDown: number;
  bytesUp: number;
  startedAt: string;
}

export const MIGRATION_PHASES = ['requested', 'paused', 'waiting', 'attached', 'firstByte', 'resumed', 'done', 'rolledBack', 'failed'] as const;
export type MigrationPhase = (typeof MIGRATION_PHASES)[number];

/** docs/CONTRACTS.md, `Migration`. */
export interface ProxyMigration {
  id: string;
  connection: string;
  from: string;
  to: string;
  state: 'pausing' | 'waiting' | 'attaching' | 'done' | 'rolled-back' | 'failed';
  ticket?: string;
  phases: Partial<Record<MigrationPhase, number>>;
  bytesCached: number;
  bytesReplayed: number;
  fromOffset: number;
  error?: string | { code: string; message: string };
}

export const FINAL_MIGRATION_STATES: ReadonlySet<ProxyMigration['state']> = new Set(['done', 'rolled-back', 'failed']);

/** An error answer of the proxy's control API, with its stable code. */
export class ProxyControlError extends TsmpError {
  readonly status: number;
  constructor(status: number, code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

export interface ProxyControlClientOptions {
  /** `host:port` of the control API. */
  control: string;
  did: string;
  token: string;
  /** Per request. @default 10000 */
  timeoutMs?: number;
  https?: boolean;
}

/** HTTP/JSON client of the proxy's control API, authenticated as the device (Basic `DID:token`). */
export class ProxyControlClient {
  readonly #base: string;
  readonly #auth: string;
  readonly #timeoutMs: number;

  constructor(options: ProxyControlClientOptions) {
    this.#base = `${options.https ? 'https' : 'http'}://${options.control}`;
    this.#auth = `Basic ${Buffer.from(`${options.did}:${options.token}`).toString('base64')}`;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async listConnections(): Promise<ProxyConnection[]> {
    const body = await this.#request<{ connections: ProxyConnection[] }>('GET', '/v1/connections');
    return body.connections;
  }

  migrate(connection: string, to: string, snapshot?: JsonValue): Promise<ProxyMigration> {
    return this.#request('POST', `/v1/connections/${encodeURIComponent(connection)}/migrate`, snapshot === undefined ? { to } : { to, snapshot });
  }

  getMigration(id: string): Promise<ProxyMigration> {
    return this.#request('GET', `/v1/migrations/${encodeURIComponent(id)}`);
  }

  /**
   * Polls a migration until it is final, reporting each change; `intervalMs` keeps the phases
   * visible as they happen. Bounded by `timeoutMs`.
   */
  async follow(id: string, onUpdate: (m: ProxyMigration) => void, options: { intervalMs?: number; timeoutMs?: number } = {}): Promise<ProxyMigration> {
    const intervalMs = options.intervalMs ?? 100;
    const timeoutMs = options.timeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const m = await this.getMigration(id);
      const key = JSON.stringify([m.state, m.phases]);
      if (key !== last) {
        last = key;
        onUpdate(m);
      }
      if (FINAL_MIGRATION_STATES.has(m.state)) return m;
      if (Date.now() > deadline) throw new TimeoutError(`migration ${id}`, timeoutMs);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  async #request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.#base}${path}`, {
        method,
        headers: { authorization: this.#auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new ProxyControlError(0, 'ERR_PROXY_UNREACHABLE', `cannot reach the proxy's control API at ${this.#base}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new ProxyControlError(res.status, 'ERR_PROXY_PROTOCOL', `the proxy answered ${res.status} with non-JSON`);
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } }).error;
      throw new ProxyControlError(res.status, e?.code ?? `ERR_HTTP_${res.status}`, e?.message ?? `the proxy answered ${res.status}`);
    }
    return json as T;
  }
}
