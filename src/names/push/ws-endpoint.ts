/**
 * The push channel's WebSocket endpoint, `GET /v1/push` with an Upgrade (RFC 6455). An agent
 * authenticates with its DID and token (Basic), a proxy with the service key (Bearer). Frames are
 * JSON text. Server → client: `hello`, then any PushMessage (`migration`, `introduction`,
 * `group-changed`, `paired`, `revoked`) to agents, `coa` events to proxies. Client → server:
 * RPC requests (`resolve`, `heartbeat`; push/rpc-session.ts) and, from proxies,
 * `{type: "subscribe" | "unsubscribe", dids: [...]}`.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../common/logger.js';
import { parseAuthorization } from '../api/credentials.js';
import { NamesError, UnauthorizedError } from '../errors.js';
import type { AccountService } from '../service/accounts.js';
import type { NameService } from '../service/name-service.js';
import type { PushHub } from './push-hub.js';
import { RPC_METHODS, type RpcHello } from './rpc-messages.js';
import { RpcSession } from './rpc-session.js';
import { RpcRateLimiter, type RpcRateLimitOptions } from './rpc-rate-limit.js';

export const PUSH_PATH = '/v1/push';

export interface PushEndpointOptions {
  /** Largest frame a client may send; a larger one closes the session with 1009. @default 64 KiB */
  maxPayload: number;
  /** Ping period; a session that misses one pong is dropped. @default 30000 */
  pingIntervalMs: number;
  /** RPC requests one session may have unanswered; one more closes it. @default 256 */
  maxInFlight: number;
  /** Device sessions' `resolve` rate, per device (the HTTP `mixed` limit). */
  resolveRateLimit?: RpcRateLimitOptions;
}

export function attachPushEndpoint(server: Server, svc: NameService, hub: PushHub, opts: PushEndpointOptions, log: Logger): () => void {
  const accounts = svc.accounts;
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload });
  const rpc: RpcHello = { methods: [...RPC_METHODS], maxInFlight: opts.maxInFlight, maxMessageBytes: opts.maxPayload };
  const alive = new WeakMap<WebSocket, boolean>();
  const resolveLimiter = opts.resolveRateLimit ? new RpcRateLimiter(opts.resolveRateLimit) : undefined;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== PUSH_PATH) return refuse(socket, 404, 'ERR_NOT_FOUND', 'no WebSocket endpoint here');
    socket.on('error', () => socket.destroy());
    authenticatePush(accounts, req.headers.authorization).then(
      (p) => {
        wss.handleUpgrade(req, socket, head, (ws) => {
          alive.set(ws, true);
          ws.on('pong', () => alive.set(ws, true));
          ws.on('error', () => ws.terminate());
          const session = new RpcSession(ws, p, svc, hub, { maxInFlight: opts.maxInFlight, resolveLimiter }, log);
          ws.on('message', (data, isBinary) => session.onFrame(data, isBinary));
          if (p.kind === 'device') {
            hub.addAgent(p.did, ws);
            ws.send(JSON.stringify({ type: 'hello', role: 'agent', did: p.did, rpc }));
          } else {
            hub.addProxy(ws);
            ws.send(JSON.stringify({ type: 'hello', role: 'proxy', rpc }));
          }
        });
      },
      (err: unknown) => {
        if (err instanceof NamesError) refuse(socket, err.status, err.code, err.message);
        else {
          log.error({ err }, 'push authentication failed');
          refuse(socket, 500, 'ERR_INTERNAL', 'internal error');
        }
      },
    );
  };

  const ping = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, opts.pingIntervalMs);
  ping.unref();

  server.on('upgrade', onUpgrade);
  return () => {
    clearInterval(ping);
    server.off('upgrade', onUpgrade);
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  };
}

/** Devices (`Basic DID:token`) and proxies (`Bearer` service key) only: never a password check. */
async function authenticatePush(accounts: AccountService, header: string | undefined) {
  const c = parseAuthorization(header);
  if (!c) throw new UnauthorizedError('missing or malformed Authorization header');
  if (c.scheme === 'bearer') return accounts.authenticateService(c.token);
  return accounts.authenticateDeviceOnly(c.name, c.secret);
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
