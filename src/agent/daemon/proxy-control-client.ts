import http from 'node:http';
import https from 'node:https';
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
  readonly #https: boolean;
  /** One kept-alive connection (two at most), so that a request costs no handshake. */
  readonly #agent: http.Agent;

  constructor(options: ProxyControlClientOptions) {
    this.#https = options.https === true;
    this.#agent = new (this.#https ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 2 });
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

  /**
   * One request on the client's kept-alive connection. Node's `fetch` opened a second connection
   * for a request that followed another at once (measured), so a migration request cost a TCP
   * handshake on top of its one-way trip; over a 3G link that is 740 ms. An `http.Agent` with
   * keep-alive hands the free socket back as soon as a response ends.
   */
  async #request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let res: { status: number; text: string };
    try {
      res = await new Promise((resolve, reject) => {
        const req = (this.#https ? https : http).request(`${this.#base}${path}`, {
          method,
          agent: this.#agent,
          timeout: this.#timeoutMs,
          headers: {
            authorization: this.#auth,
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        }, (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => {
            // A control answer is small; one that is not is cut off and fails as non-JSON.
            if (text.length <= MAX_ANSWER) text += c;
          });
          r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
          r.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new TimeoutError(`${method} ${path} on the proxy's control API`, this.#timeoutMs)));
        req.on('error', reject);
        req.end(payload);
      });
    } catch (err) {
      throw new ProxyControlError(0, 'ERR_PROXY_UNREACHABLE', `cannot reach the proxy's control API at ${this.#base}: ${(err as Error).message}`, { cause: err });
    }
    let json: unknown;
    try {
      json = res.text ? JSON.parse(res.text) : {};
    } catch {
      throw new ProxyControlError(res.status, 'ERR_PROXY_PROTOCOL', `the proxy answered ${res.status} with non-JSON`);
    }
    if (res.status < 200 || res.status > 299) {
      const e = (json as { error?: { code?: string; message?: string } }).error;
      throw new ProxyControlError(res.status, e?.code ?? `ERR_HTTP_${res.status}`, e?.message ?? `the proxy answered ${res.status}`);
    }
    return json as T;
  }

  /** Closes the kept-alive connection (the daemon's shutdown). */
  close(): void {
    this.#agent.destroy();
  }
}

const MAX_ANSWER = 4 * 1024 * 1024;
