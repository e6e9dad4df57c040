/**
 * A small JSON-over-HTTP(S) requester on node:http, so a private CA (`--ca FILE`) works, with
 * keep-alive, a timeout on every request and a bound on every response body.
 */
import http from 'node:http';
import https from 'node:https';
import { TimeoutError } from '../../common/errors.js';
import { NameServerHttpError } from '../errors.js';

export interface HttpJsonOptions {
  /** Base URL, e.g. `http://127.0.0.1:7000`. */
  url: string;
  /** PEM of the CA that signed the server's certificate. */
  ca?: string | Buffer;
  /** @default 10000 */
  timeoutMs?: number;
  /** Largest response body accepted. @default 8 MiB */
  maxResponseBytes?: number;
  /** Concurrent sockets per client. @default 64 */
  maxSockets?: number;
}

export class HttpJson {
  readonly base: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

  constructor(readonly opts: HttpJsonOptions) {
    this.base = new URL(opts.url);
    const common = { keepAlive: true, maxSockets: opts.maxSockets ?? 64 };
    this.agent = this.base.protocol === 'https:' ? new https.Agent({ ...common, ca: opts.ca }) : new http.Agent(common);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxBytes = opts.maxResponseBytes ?? 8 << 20;
  }

  request<T>(method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(
        url,
        {
          method,
          agent: this.agent,
          headers: { accept: 'application/json', ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > this.maxBytes) req.destroy(new NameServerHttpError(502, 'ERR_RESPONSE_TOO_LARGE', `response over ${this.maxBytes} bytes`));
            else chunks.push(c);
          });
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown = undefined;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              /* not JSON: reported below by status */
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(json as T);
            const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
            reject(new NameServerHttpError(status, e?.code ?? 'ERR_HTTP', e?.message ?? `HTTP ${status}`));
          });
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new TimeoutError(`${method} ${url.pathname}`, this.timeoutMs)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
