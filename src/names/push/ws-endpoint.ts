/**
 * The push channel's WebSocket endpoint, `GET /v1/push` with an Upgrade (RFC 6455). An agent
 * authenticates with its DID and token (Basic), a proxy with the service key (Bearer). Frames are
 * JSON text. Server → client: `hello`, then any PushMessage (`migration`, `introduction`,
 * `group-changed`, `paired`, `revoked`) to agents, `coa` events to proxies. Client → server
 * (proxies): `{type: "subscribe" | "unsubscribe", dids: [...]}`.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { Logger } from '../../common/logger.js';
import { parseAuthorization } from '../api/credentials.js';
import { NamesError, UnauthorizedError } from '../errors.js';
import { didSchema } from '../model.js';
import type { AccountService } from '../service/accounts.js';
import type { PushHub } from './push-hub.js';

export const PUSH_PATH = '/v1/push';

export interface PushEndpointOptions {
  /** Largest frame a client may send. @default 64 KiB */
  maxPayload: number;
  /** Ping period; a session that misses one pong is dropped. @default 30000 */
  pingIntervalMs: number;
}

const clientFrame = z.object({
  type: z.enum(['subscribe', 'unsubscribe']),
  dids: z.array(didSchema).max(10_000),
});

export function attachPushEndpoint(server: Server, accounts: AccountService, hub: PushHub, opts: PushEndpointOptions, log: Logger): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload });
  const alive = new WeakMap<WebSocket, boolean>();

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
          if (p.kind === 'device') {
            hub.addAgent(p.did, ws);
            ws.send(JSON.stringify({ type: 'hello', role: 'agent', did: p.did }));
          } else {
            hub.addProxy(ws);
            ws.on('message', (data) => onProxyFrame(ws, data.toString()));
            ws.send(JSON.stringify({ type: 'hello', role: 'proxy' }));
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

  const onProxyFrame = (ws: WebSocket, text: string) => {
    let frame: z.infer<typeof clientFrame>;
    try {
      frame = clientFrame.parse(JSON.parse(text));
    } catch {
      ws.send(JSON.stringify({ type: 'error', code: 'ERR_BAD_REQUEST', message: 'expected {type: subscribe|unsubscribe, dids: [DID]}' }));
      return;
    }
    if (frame.type === 'subscribe') void hub.subscribe(ws, frame.dids).catch((err) => log.warn({ err }, 'subscribe failed'));
    else hub.unsubscribe(ws, frame.dids);
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
