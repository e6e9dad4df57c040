/**
 * The client side of the push channel: keeps one WebSocket open to the name server and reopens
 * it with exponential backoff and jitter when it drops (issue 3, "Agents keep a WebSocket open
 * ..., which reconnects with backoff"). Proxies' subscriptions are replayed after a reconnect.
 * It also carries RPC requests (`request`, push/rpc-messages.ts): many in flight, answered in
 * any order, never more than the server's `hello` allows.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { TimeoutError } from '../../common/errors.js';
import { NameServerHttpError, RpcUnavailableError } from '../errors.js';
import type { RpcHello, RpcMethod, RpcReply } from '../push/rpc-messages.js';
import type { PushMessage } from '../service/context.js';

export interface PushSubscriberOptions {
  /** Name server base URL (http/https; the ws/wss URL is derived). */
  url: string;
  /** Authorization header value (Basic DID:token or Bearer service key). */
  authorization: string;
  ca?: string | Buffer;
  /** First retry delay. @default 250 */
  minBackoffMs?: number;
  /** Longest retry delay. @default 30000 */
  maxBackoffMs?: number;
  /** Handshake timeout. @default 10000 */
  connectTimeoutMs?: number;
  /** Largest frame accepted from the server. @default 1 MiB */
  maxPayload?: number;
  /** How long an RPC request waits for its answer. @default 10000 */
  rpcTimeoutMs?: number;
}

interface PendingRpc {
  resolve: (v: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  /** Timed out here but still counted: the server may still be working on it. */
  abandoned: boolean;
}

export interface PushSubscriberEvents {
  message: [PushMessage];
  open: [];
  close: [];
  error: [Error];
}

/** connecting → open (after the server's hello) → waiting (backoff) → connecting …; stopped is final. */
export const PUSH_STATES = { connecting: 'connecting', open: 'open', waiting: 'waiting', stopped: 'stopped' } as const;
export type PushState = (typeof PUSH_STATES)[keyof typeof PUSH_STATES];

export class PushSubscriber extends EventEmitter<PushSubscriberEvents> {
  private current: PushState = PUSH_STATES.connecting;
  private ws: WebSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private stopped = false;
  private readonly watched = new Set<string>();
  private rpc: RpcHello | null = null;
  private readonly pending = new Map<number, PendingRpc>();
  private nextId = 1;
  readonly wsUrl: string;
  /** True once the server closed the session because the device was revoked (close code 4001). */
  revoked = false;

  constructor(private readonly opts: PushSubscriberOptions) {
    super();
    const u = new URL('/v1/push', opts.url);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    this.wsUrl = u.toString();
    this.connect();
  }

  get state(): PushState {
    return this.current;
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Resolves on the next `hello` from the server (the session is registered there by then). */
  ready(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off('open', onOpen);
        reject(new Error(`push channel not open after ${timeoutMs} ms`));
      }, timeoutMs);
      const onOpen = () => {
        clearTimeout(t);
        resolve();
      };
      if (this.connected && this.helloSeen) {
        clearTimeout(t);
        resolve();
      } else this.once('open', onOpen);
    });
  }

  private helloSeen = false;

  /** Proxies: be told of CoA and status changes of these devices (paper V.B.4). */
  subscribe(dids: string[]): void {
    for (const d of dids) this.watched.add(d);
    if (this.connected) this.ws!.send(JSON.stringify({ type: 'subscribe', dids }));
  }

  unsubscribe(dids: string[]): void {
    for (const d of dids) this.watched.delete(d);
    if (this.connected) this.ws!.send(JSON.stringify({ type: 'unsubscribe', dids }));
  }

  /** Whether `request(method)` can go out now (open, offered by the server, under its bound). */
  rpcReady(method: RpcMethod): boolean {
    return this.connected && this.helloSeen && this.rpc !== null && this.rpc.methods.includes(method) && this.pending.size < this.rpc.maxInFlight;
  }

  /**
   * One RPC request. Rejects with RpcUnavailableError when the channel cannot carry it (use
   * HTTP), with NameServerHttpError (the HTTP API's status and code) when the server refused it,
   * and with TimeoutError after `rpcTimeoutMs`.
   */
  request<T>(method: RpcMethod, params: object): Promise<T> {
    if (!this.rpcReady(method)) return Promise.reject(new RpcUnavailableError(`the push channel cannot take a ${method} request now`));
    const id = this.nextId++;
    const frame = JSON.stringify({ type: 'rpc', id, method, params });
    if (Buffer.byteLength(frame) > this.rpc!.maxMessageBytes) return Promise.reject(new RpcUnavailableError(`a ${method} request over the server's frame limit`));
    const ms = this.opts.rpcTimeoutMs ?? 10_000;
    return new Promise<T>((resolve, reject) => {
      const entry: PendingRpc = {
        resolve: resolve as (v: unknown) => void,
        reject,
        abandoned: false,
        timer: setTimeout(() => {
          entry.abandoned = true;
          reject(new TimeoutError(`${method} over the push channel`, ms));
        }, ms),
      };
      this.pending.set(id, entry);
      this.ws!.send(frame);
    });
  }

  private settle(reply: RpcReply): void {
    if (typeof reply.id !== 'number') return;
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    clearTimeout(p.timer);
    if (p.abandoned) return;
    if (reply.type === 'rpc-result') p.resolve(reply.result);
    else p.reject(new NameServerHttpError(reply.error?.status ?? 500, reply.error?.code ?? 'ERR_RPC', reply.error?.message ?? 'request failed'));
  }

  /** The session is gone: nothing in flight will be answered. */
  private failPending(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      if (!p.abandoned) p.reject(new RpcUnavailableError('the push channel closed before the answer'));
    }
    this.pending.clear();
  }

  private connect(): void {
    if (this.stopped) return;
    this.current = PUSH_STATES.connecting;
    this.helloSeen = false;
    const ws = new WebSocket(this.wsUrl, {
      headers: { authorization: this.opts.authorization },
      ca: this.opts.ca,
      handshakeTimeout: this.opts.connectTimeoutMs ?? 10_000,
      maxPayload: this.opts.maxPayload ?? 1 << 20,
    });
    this.ws = ws;
    ws.on('message', (data) => {
      let msg: PushMessage;
      try {
        msg = JSON.parse(data.toString()) as PushMessage;
      } catch {
        return;
      }
      if (msg.type === 'rpc-result' || msg.type === 'rpc-error') return this.settle(msg as unknown as RpcReply);
      if (msg.type === 'hello') {
        this.attempt = 0;
        this.helloSeen = true;
        this.rpc = validHello(msg.rpc);
        this.current = PUSH_STATES.open;
        if (this.watched.size) ws.send(JSON.stringify({ type: 'subscribe', dids: [...this.watched] }));
        this.emit('open');
        return;
      }
      this.emit('message', msg);
    });
    ws.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    ws.on('close', (code) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.rpc = null;
      this.failPending();
      // 4001: the server revoked this device; reconnecting could only be refused.
      if (code === 4001) {
        this.revoked = true;
        this.stopped = true;
      }
      if (this.helloSeen) this.emit('close');
      this.schedule();
    });
  }

  /** Full jitter backoff: a random delay up to min(max, min·2^attempt). */
  private schedule(): void {
    if (this.stopped) {
      this.current = PUSH_STATES.stopped;
      return;
    }
    if (this.timer) return;
    this.current = PUSH_STATES.waiting;
    const min = this.opts.minBackoffMs ?? 250;
    const max = this.opts.maxBackoffMs ?? 30_000;
    const ceiling = Math.min(max, min * 2 ** this.attempt++);
    const delay = min / 2 + Math.random() * (ceiling - min / 2);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  close(): void {
    this.stopped = true;
    this.current = PUSH_STATES.stopped;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.terminate();
    this.ws = null;
    this.failPending();
  }
}

/** The `rpc` field of the server's hello, if it is one this client understands. */
function validHello(v: unknown): RpcHello | null {
  const h = v as Partial<RpcHello> | undefined;
  if (!h || !Array.isArray(h.methods) || typeof h.maxInFlight !== 'number' || typeof h.maxMessageBytes !== 'number') return null;
  return { methods: h.methods.filter((m): m is RpcMethod => m === 'resolve' || m === 'heartbeat'), maxInFlight: h.maxInFlight, maxMessageBytes: h.maxMessageBytes };
}
