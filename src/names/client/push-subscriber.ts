/**
 * The client side of the push channel: keeps one WebSocket open to the name server and reopens
 * it with exponential backoff and jitter when it drops (issue 3, "Agents keep a WebSocket open
 * ..., which reconnects with backoff"). Proxies' subscriptions are replayed after a reconnect.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
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
      if (msg.type === 'hello') {
        this.attempt = 0;
        this.helloSeen = true;
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
  }
}
