import { ProxyBenchError } from './errors.js';

/** A device's view of the proxy control API (docs/CONTRACTS.md), for the migration bench. */
export class ControlApi {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async call<T>(did: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${did}:${token}`).toString('base64')}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
  }

  async expect<T>(status: number, did: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.call<T>(did, token, method, path, body);
    if (r.status !== status) throw new ProxyBenchError(`${method} ${path} answered ${r.status}: ${JSON.stringify(r.json)}`);
    return r.json;
  }
}

/** The fields of `GET /v1/migrations/{id}` the bench reads. */
export interface MigrationView {
  id: string;
  state: 'pausing' | 'waiting' | 'attaching' | 'done' | 'rolled-back' | 'failed';
  fromOffset: number | null;
  bytesReplayed: number;
  phases?: Record<string, number>;
  timings?: {
    connectToFirstByteMs?: number;
    connectToResumeMs?: number;
    requestToResumeMs?: number;
  };
  error?: string;
}

export interface ConnectionView {
  id: string;
  deviceAddress?: string | null;
}
