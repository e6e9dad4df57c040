import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { ConfigError } from '../../common/errors.js';
import { TsmpError } from '../../common/errors.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import type { AgentDaemon } from '../daemon/agent-daemon.js';
import type { StateEvent } from '../daemon/agent-state.js';
import { assets } from './assets.js';
import { COOKIE_NAME, isAuthorized, isLoopbackHost, isSameOrigin, newSecret } from './ui-auth.js';

export interface UiServerOptions {
  host: string;
  port: number;
  /** @default a fresh random secret */
  secret?: string;
  /** Open SSE streams at once. @default 32 */
  maxEventStreams?: number;
  /** Largest request body. @default 4096 */
  maxBodyBytes?: number;
  logger?: Logger;
}

/**
 * The local dashboard (issue 4, "Web dashboard"): loopback only, behind a per-agent secret given
 * once in the URL and kept in an HttpOnly, SameSite=Strict cookie. Live updates go over
 * Server-Sent Events (one-way is all the page needs; EventSource reconnects by itself).
 */
export class UiServer {
  readonly secret: string;
  readonly #agent: AgentDaemon;
  readonly #o: UiServerOptions;
  readonly #server: Server;
  readonly #streams = new Set<ServerResponse>();
  readonly #logger: Logger;
  #url = '';

  constructor(agent: AgentDaemon, options: UiServerOptions) {
    if (!isLoopbackHost(options.host)) throw new ConfigError(`--ui must be a loopback address, got ${options.host}`);
    this.#agent = agent;
    this.#o = options;
    this.secret = options.secret ?? newSecret();
    this.#logger = options.logger ?? silentLogger;
    this.#server = createServer((req, res) => void this.#route(req, res).catch((err) => this.#fail(res, err)));
    agent.state.on('change', (e) => this.#broadcast(e));
  }

  /** The address to open, with the secret in it. */
  get url(): string {
    return `${this.#url}/?s=${this.secret}`;
  }

  async listen(): Promise<string> {
    this.#server.listen(this.#o.port, this.#o.host);
    await once(this.#server, 'listening');
    const a = this.#server.address() as { address: string; port: number };
    this.#url = `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const s of this.#streams) s.end();
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    if (!isLoopbackHost(req.headers.host)) return this.#json(res, 421, { error: { code: 'ERR_HOST', message: 'loopback host names only' } });
    const via = isAuthorized(req, url, this.secret);
    if (!via) return this.#json(res, 401, { error: { code: 'ERR_UNAUTHORIZED', message: 'open the dashboard with the link the agent printed' } });
    if (via === 'url' && req.method === 'GET') {
      // Trade the secret in the URL for a cookie, and drop it from the address bar and history.
      res.setHeader('set-cookie', `${COOKIE_NAME}=${this.secret}; HttpOnly; SameSite=Strict; Path=/`);
      res.writeHead(303, { location: url.pathname });
      return void res.end();
    }
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /':
        return this.#send(res, 'text/html; charset=utf-8', assets().html);
      case 'GET /app.js':
        return this.#send(res, 'text/javascript; charset=utf-8', assets().js);
      case 'GET /style.css':
        return this.#send(res, 'text/css; charset=utf-8', assets().css);
      case 'GET /api/state':
        return this.#json(res, 200, this.#agent.state.snapshot());
      case 'GET /api/events':
        return this.#events(req, res);
      case 'POST /api/move':
        return this.#move(req, res);
      default:
        return this.#json(res, 404, { error: { code: 'ERR_NOT_FOUND', message: `no route ${route}` } });
    }
  }

  #events(req: IncomingMessage, res: ServerResponse): void {
    if (this.#streams.size >= (this.#o.maxEventStreams ?? 32)) {
      return this.#json(res, 503, { error: { code: 'ERR_TOO_MANY_STREAMS', message: 'too many dashboards open' } });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'keep-alive' });
    res.write(`event: state\ndata: ${JSON.stringify(this.#agent.state.snapshot())}\n\n`);
    this.#streams.add(res);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.once('close', () => {
      clearInterval(ping);
      this.#streams.delete(res);
    });
  }

  #broadcast(e: StateEvent): void {
    const frame = `event: ${e.kind}\ndata: ${JSON.stringify(e)}\n\n`;
    for (const s of this.#streams) {
      // A dashboard that stopped reading is dropped rather than buffered without bound.
      if (s.writableLength > 1024 * 1024) s.destroy();
      else s.write(frame);
    }
  }

  async #move(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isSameOrigin(req)) return this.#json(res, 403, { error: { code: 'ERR_ORIGIN', message: 'cross-origin request refused' } });
    const body = (await readBody(req, this.#o.maxBodyBytes ?? 4096)) as { connection?: unknown; to?: unknown; handler?: unknown };
    if (typeof body.connection !== 'string' || typeof body.to !== 'string' || (body.handler !== undefined && typeof body.handler !== 'string')) {
      return this.#json(res, 400, { error: { code: 'ERR_BAD_REQUEST', message: 'expected {connection, to, handler?}' } });
    }
    const { connection, to } = body;
    const handler = typeof body.handler === 'string' && body.handler ? body.handler : undefined;
    // Answer as soon as the proxy accepted the move; its phases then stream over SSE.
    const started = await new Promise<{ id: string } | Error>((resolve) => {
      this.#agent
        .move(connection, to, { ...(handler ? { handler } : {}), onUpdate: (m) => resolve({ id: m.id }) })
        .catch((err: Error) => {
          this.#logger.info({ err: err.message }, 'move failed');
          resolve(err);
        });
    });
    if (started instanceof Error) return this.#fail(res, started);
    this.#json(res, 202, { migration: started.id });
  }

  #send(res: ServerResponse, type: string, body: string): void {
    res.writeHead(200, { 'content-type': type, 'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'self'" });
    res.end(body);
  }

  #json(res: ServerResponse, status: number, value: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  }

  #fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent) return void res.end();
    const status = typeof (err as { status?: unknown }).status === 'number' && (err as { status: number }).status >= 400 ? (err as { status: number }).status : 400;
    const code = err instanceof TsmpError ? err.code : 'ERR_INTERNAL';
    this.#json(res, status, { error: { code, message: (err as Error).message } });
  }
}

async function readBody(req: IncomingMessage, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > max) throw new TsmpError('ERR_PAYLOAD_TOO_LARGE', `request body over ${max} bytes`);
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString() || '{}');
  } catch {
    throw new TsmpError('ERR_BAD_REQUEST', 'body is not JSON');
  }
}
