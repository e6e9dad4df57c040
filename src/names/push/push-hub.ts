/**
 * The push channel's sessions on this process (issue 3, "Push"). Agents hold one WebSocket per
 * device; proxies hold one with the service key and subscribe to the devices whose connections
 * they carry, and are told of CoA and status changes (paper V.B.4). Implements the services'
 * EventSink; other processes are reached through the Fanout.
 */
import type { WebSocket } from 'ws';
import type { Logger } from '../../common/logger.js';
import type { Resolution } from '../model.js';
import type { CoaEvent, DeliveryResult, EventSink, PushMessage } from '../service/context.js';
import type { Fanout, FanoutEvent } from './fanout.js';
import { SendBatcher } from './send-batcher.js';

export interface PushHubOptions {
  /** A session whose unsent data passes this is closed (a peer that never reads). @default 1 MiB */
  maxBufferedBytes: number;
  /** Most devices one proxy session may watch. @default 100000 */
  maxSubscriptions: number;
  /** How often watched devices are checked for going offline. */
  sweepIntervalMs: number;
}

export class PushHub implements EventSink {
  private readonly agents = new Map<string, Set<WebSocket>>();
  private readonly watchers = new Map<string, Set<WebSocket>>();
  private readonly subscriptions = new Map<WebSocket, Set<string>>();
  private readonly lastStatus = new Map<string, string>();
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly out = new SendBatcher();

  constructor(
    private readonly opts: PushHubOptions,
    private readonly fanout: Fanout,
    private readonly current: (dids: string[]) => Promise<Resolution[]>,
    private readonly log: Logger,
  ) {
    fanout.onEvent((ev) => this.fromOtherProcess(ev));
    this.sweepTimer = setInterval(() => void this.sweep().catch((err) => this.log.warn({ err }, 'presence sweep failed')), opts.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  addAgent(did: string, ws: WebSocket): void {
    let set = this.agents.get(did);
    if (!set) this.agents.set(did, (set = new Set()));
    set.add(ws);
    ws.once('close', () => {
      set.delete(ws);
      if (set.size === 0 && this.agents.get(did) === set) this.agents.delete(did);
    });
  }

  addProxy(ws: WebSocket): void {
    this.subscriptions.set(ws, new Set());
    ws.once('close', () => {
      for (const did of this.subscriptions.get(ws) ?? []) this.unwatch(ws, did);
      this.subscriptions.delete(ws);
    });
  }

  /** Subscribes and answers with each device's current state as a first `coa` event. */
  async subscribe(ws: WebSocket, dids: string[]): Promise<void> {
    const subs = this.subscriptions.get(ws);
    if (!subs) return;
    const added = dids.filter((d) => !subs.has(d));
    if (subs.size + added.length > this.opts.maxSubscriptions) {
      this.send(ws, { type: 'error', code: 'ERR_TOO_MANY_SUBSCRIPTIONS', message: `at most ${this.opts.maxSubscriptions} devices per session` });
      return;
    }
    for (const did of added) {
      subs.add(did);
      let set = this.watchers.get(did);
      if (!set) this.watchers.set(did, (set = new Set()));
      set.add(ws);
    }
    for (const r of await this.current(added)) {
      this.lastStatus.set(r.did, r.status);
      this.send(ws, toEvent(r));
    }
  }

  unsubscribe(ws: WebSocket, dids: string[]): void {
    for (const did of dids) this.unwatch(ws, did);
  }

  private unwatch(ws: WebSocket, did: string): void {
    this.subscriptions.get(ws)?.delete(did);
    const set = this.watchers.get(did);
    set?.delete(ws);
    if (set && set.size === 0) {
      this.watchers.delete(did);
      this.lastStatus.delete(did);
    }
  }

  async deliver(did: string, message: PushMessage): Promise<DeliveryResult> {
    const local = this.deliverLocal(did, message);
    if (this.fanout.shared) {
      await this.fanout.publish({ kind: 'push', did, message });
      return local > 0 ? 'local' : 'fanout';
    }
    return local > 0 ? 'local' : 'none';
  }

  /** Not awaited by the heartbeat: a proxy learns of the change as soon as NOTIFY carries it. */
  async coaChanged(event: CoaEvent): Promise<void> {
    this.notifyWatchers(event);
    if (this.fanout.shared) void this.fanout.publish({ kind: 'coa', event }).catch((err) => this.log.warn({ err }, 'CoA fan-out failed'));
  }

  async disconnect(did: string): Promise<void> {
    this.disconnectLocal(did);
    if (this.fanout.shared) await this.fanout.publish({ kind: 'disconnect', did });
  }

  /** 4001: the application-defined close code (RFC 6455 section 7.4.2) tsmp uses for "revoked". */
  private disconnectLocal(did: string): void {
    for (const ws of this.agents.get(did) ?? []) ws.close(4001, 'revoked');
  }

  /** How many agent sessions this process holds for the device. */
  agentSessions(did: string): number {
    return this.agents.get(did)?.size ?? 0;
  }

  private deliverLocal(did: string, message: PushMessage): number {
    let n = 0;
    for (const ws of this.agents.get(did) ?? []) if (this.send(ws, message)) n++;
    return n;
  }

  private notifyWatchers(event: CoaEvent): void {
    const set = this.watchers.get(event.did);
    if (!set) return;
    this.lastStatus.set(event.did, event.status);
    for (const ws of set) this.send(ws, event);
  }

  private fromOtherProcess(ev: FanoutEvent): void {
    if (ev.kind === 'push') this.deliverLocal(ev.did, ev.message);
    else if (ev.kind === 'disconnect') this.disconnectLocal(ev.did);
    else this.notifyWatchers(ev.event);
  }

  /** Presence is computed on read, so a device that stops heartbeating is noticed here. */
  private async sweep(): Promise<void> {
    const dids = [...this.watchers.keys()];
    if (dids.length === 0) return;
    for (const r of await this.current(dids)) {
      if (this.lastStatus.get(r.did) !== r.status) this.notifyWatchers(toEvent(r));
    }
  }

  /** The bounded send every frame of a session goes through (RPC replies too). */
  sendTo(ws: WebSocket, message: object): boolean {
    return this.send(ws, message);
  }

  private send(ws: WebSocket, message: object): boolean {
    if (ws.readyState !== ws.OPEN) return false;
    if (ws.bufferedAmount > this.opts.maxBufferedBytes) {
      this.log.warn('closing a push session that does not read');
      ws.terminate();
      return false;
    }
    this.out.send(ws, JSON.stringify(message));
    return true;
  }

  close(): void {
    clearInterval(this.sweepTimer);
    for (const set of this.agents.values()) for (const ws of set) ws.terminate();
    for (const ws of this.subscriptions.keys()) ws.terminate();
  }
}

function toEvent(r: Resolution): CoaEvent {
  return { type: 'coa', did: r.did, status: r.status, coa: r.coa, lastSeen: r.lastSeen };
}
