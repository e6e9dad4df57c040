/**
 * One push session's incoming frames: RPC requests (`resolve`, `heartbeat`) and the proxies'
 * subscriptions. Every frame is validated (rpc-messages.ts); a frame that is not JSON, does not
 * fit the schema, or would pass the in-flight bound gets an `error` frame and the session is
 * closed with 1008 (RFC 6455 section 7.4.1), so a confused or hostile client costs at most one
 * frame of work. Oversized frames never get here: `ws` closes with 1009 (`maxPayload`).
 *
 * Requests run concurrently and are answered as each finishes (out of order). A request's
 * authority is the session's: the device that opened it (Basic DID:token at the upgrade) or a
 * proxy (the service key). The same services as the HTTP routes answer, so the rules and the
 * replies are the same; a failure of the request alone (404, 403, ...) is an `rpc-error` reply
 * and the session stays open.
 */
import type { WebSocket } from 'ws';
import type { Logger } from '../../common/logger.js';
import { parse } from '../api/parse.js';
import { BadRequestError, NamesError } from '../errors.js';
import type { Principal } from '../service/context.js';
import type { NameService } from '../service/name-service.js';
import type { PushHub } from './push-hub.js';
import type { RpcRateLimiter } from './rpc-rate-limit.js';
import { CLOSE_POLICY, clientFrameSchema, rpcParams, type ClientFrame, type RpcEnvelope, type RpcReply } from './rpc-messages.js';

export interface RpcSessionOptions {
  /** Requests of one session being answered at once; one more closes the session. @default 256 */
  maxInFlight: number;
  /** Device sessions' `resolve` calls, shared by all sessions of the server (rpc-rate-limit.ts). */
  resolveLimiter?: RpcRateLimiter;
}

export class RpcSession {
  private inFlight = 0;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly principal: Principal,
    private readonly svc: NameService,
    private readonly hub: PushHub,
    private readonly opts: RpcSessionOptions,
    private readonly log: Logger,
  ) {
    ws.once('close', () => (this.closed = true));
  }

  /** `ws` hands text frames as a Buffer (RFC 6455 text frames are UTF-8, checked by `ws`). */
  onFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.closed) return;
    if (isBinary) return this.refuse('ERR_BAD_REQUEST', 'the push channel takes JSON text frames');
    let json: unknown;
    try {
      json = JSON.parse(String(data));
    } catch {
      return this.refuse('ERR_BAD_REQUEST', 'a frame is not JSON');
    }
    const r = clientFrameSchema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      const where = issue && issue.path.length ? `${issue.path.join('.')}: ` : '';
      return this.refuse('ERR_BAD_REQUEST', `invalid frame: ${where}${issue?.message ?? 'unexpected shape'}`);
    }
    this.dispatch(r.data);
  }

  private dispatch(frame: ClientFrame): void {
    if (frame.type !== 'rpc') {
      if (this.principal.kind !== 'service') return this.refuse('ERR_FORBIDDEN', 'only proxies (service key) subscribe to devices');
      if (frame.type === 'subscribe') void this.hub.subscribe(this.ws, frame.dids).catch((err) => this.log.warn({ err }, 'subscribe failed'));
      else this.hub.unsubscribe(this.ws, frame.dids);
      return;
    }
    if (this.inFlight >= this.opts.maxInFlight) {
      return this.refuse('ERR_TOO_MANY_IN_FLIGHT', `more than ${this.opts.maxInFlight} requests in flight on one session`);
    }
    this.inFlight++;
    this.call(frame).then(
      (result) => this.reply({ type: 'rpc-result', id: frame.id, result }),
      (err: unknown) => this.reply({ type: 'rpc-error', id: frame.id, error: errorBody(err, this.log) }),
    );
  }

  private async call(req: RpcEnvelope): Promise<unknown> {
    const p = this.principal;
    if (req.method === 'resolve') {
      const limiter = this.opts.resolveLimiter;
      if (p.kind === 'device' && limiter && !limiter.take(p.did)) {
        const ms = limiter.retryAfterMs(p.did);
        throw new NamesError(429, 'ERR_RATE_LIMITED', `too many resolutions from this device; retry in ${Math.ceil(ms / 1000)} s`);
      }
      return this.svc.presence.resolve(p, parse(rpcParams.resolve, req.params).did);
    }
    if (req.method === 'heartbeat') {
      const { coa, control, groupModified } = parse(rpcParams.heartbeat, req.params);
      // POST /v1/heartbeat takes device credentials only; on a proxy's session it is refused.
      if (p.kind !== 'device') throw new NamesError(403, 'ERR_FORBIDDEN', 'heartbeats come from device sessions');
      return this.svc.presence.heartbeat(p, { coa, control: control ?? null, groupModified });
    }
    throw new BadRequestError(`unknown method ${JSON.stringify(req.method)} (this server offers resolve, heartbeat)`);
  }

  private reply(r: RpcReply): void {
    this.inFlight--;
    if (!this.closed) this.hub.sendTo(this.ws, r);
  }

  /** Bad input: say why in an `error` frame, then close (1008, policy violation). */
  private refuse(code: string, message: string): void {
    this.closed = true;
    this.hub.sendTo(this.ws, { type: 'error', code, message });
    this.ws.close(CLOSE_POLICY, code);
  }
}

function errorBody(err: unknown, log: Logger): { code: string; message: string; status: number } {
  if (err instanceof NamesError) return { code: err.code, message: err.message, status: err.status };
  log.error({ err }, 'RPC request failed');
  return { code: 'ERR_INTERNAL', message: 'internal error', status: 500 };
}
