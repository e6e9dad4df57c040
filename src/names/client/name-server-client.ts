/**
 * The typed client of the name server API, used by the CLI, the agent and the proxy.
 * See docs/names.md for the endpoints it calls.
 */
import { basicHeader } from '../api/credentials.js';
import type { Resolution } from '../model.js';
import type { HeartbeatReply } from '../service/presence.js';
import type { SyncReply } from '../service/namespace.js';
import type { DeliveryResult, PushMessage } from '../service/context.js';
import type { LogEntry } from '../sync/log-entry.js';
import type { NamespaceReplica } from '../sync/namespace-replica.js';
import { RpcUnavailableError } from '../errors.js';
import type { RpcMethod } from '../push/rpc-messages.js';
import { HttpJson, type HttpJsonOptions } from './http-json.js';
import { PushSubscriber, type PushSubscriberOptions } from './push-subscriber.js';
import type { MigrationRequest } from '../push/messages.js';

export type ClientAuth = { uid: string; password: string } | { did: string; token: string } | { serviceKey: string };

export interface NameServerClientOptions extends HttpJsonOptions {
  auth?: ClientAuth;
  /**
   * Send `resolve` and `heartbeat` over the push channel this client opened (`openPush`,
   * `watchDevices`) while it is open, and over HTTP otherwise. @default true
   */
  rpc?: boolean;
}

export interface DeviceListing extends Resolution {
  name: string;
}

export interface Introduction {
  id: string;
  from: string;
  fromDevice: string;
  expiresAt: string;
}

const enc = encodeURIComponent;

export class NameServerClient {
  private readonly http: HttpJson;
  /** The push sessions this client opened, newest last: RPC goes over the first one ready. */
  private readonly channels = new Set<PushSubscriber>();

  constructor(readonly opts: NameServerClientOptions) {
    this.http = new HttpJson(opts);
  }

  /** The same server and transport settings with other credentials. */
  withAuth(auth: ClientAuth): NameServerClient {
    return new NameServerClient({ ...this.opts, auth });
  }

  get authorization(): string | undefined {
    const a = this.opts.auth;
    if (!a) return undefined;
    if ('serviceKey' in a) return `Bearer ${a.serviceKey}`;
    if ('did' in a) return basicHeader(a.did, a.token);
    return basicHeader(a.uid, a.password);
  }

  private req<T>(method: string, path: string, body?: unknown): Promise<T> {
    const h = this.authorization;
    return this.http.request<T>(method, path, body, h ? { authorization: h } : {});
  }

  health(): Promise<{ ok: boolean; store: string }> {
    return this.req('GET', '/v1/health');
  }

  registerUser(uid: string, password: string): Promise<{ uid: string }> {
    return this.req('POST', '/v1/users', { uid, password });
  }

  addDevice(uid: string, name: string): Promise<{ did: string; token: string }> {
    return this.req('POST', `/v1/users/${enc(uid)}/devices`, { name });
  }

  async listDevices(uid: string): Promise<DeviceListing[]> {
    return (await this.req<{ devices: DeviceListing[] }>('GET', `/v1/users/${enc(uid)}/devices`)).devices;
  }

  resolve(did: string): Promise<Resolution> {
    return this.viaRpc('resolve', { did }, () => this.req('GET', `/v1/devices/${enc(did)}`));
  }

  /** Over an open push channel when there is one, else (or when it cannot take it) over HTTP. */
  private async viaRpc<T>(method: RpcMethod, params: object, http: () => Promise<T>): Promise<T> {
    if (this.opts.rpc !== false) {
      for (const ch of this.channels) {
        if (ch.state === 'stopped') this.channels.delete(ch);
        if (!ch.rpcReady(method)) continue;
        try {
          return await ch.request<T>(method, params);
        } catch (err) {
          if (!(err instanceof RpcUnavailableError)) throw err;
        }
        break;
      }
    }
    return http();
  }

  /** Whether `resolve`/`heartbeat` would go over a push channel right now. */
  rpcReady(method: RpcMethod): boolean {
    return this.opts.rpc !== false && [...this.channels].some((ch) => ch.rpcReady(method));
  }

  async revokeDevice(did: string): Promise<void> {
    await this.req('DELETE', `/v1/devices/${enc(did)}`);
  }

  heartbeat(body: { coa: string | null; control?: string | null; groupModified: number }): Promise<HeartbeatReply> {
    return this.viaRpc('heartbeat', body, () => this.req('POST', '/v1/heartbeat', body));
  }

  sync(since: number, entries: LogEntry[]): Promise<SyncReply> {
    return this.req('POST', '/v1/sync', { since, entries });
  }

  /** Runs sync rounds until the replica has sent its pending entries and holds the whole log. */
  async syncReplica(replica: NamespaceReplica, maxRounds = 100): Promise<void> {
    for (let i = 0; i < maxRounds; i++) {
      const request = replica.syncRequest();
      const reply = await this.sync(request.since, request.entries);
      replica.applySyncResponse(request, reply);
      if (!reply.more && !replica.hasPending()) return;
    }
  }

  createPairing(): Promise<{ code: string; expiresAt: string }> {
    return this.req('POST', '/v1/pairings', {});
  }

  claimPairing(uid: string, code: string, name: string): Promise<{ did: string; token: string }> {
    return this.req('POST', '/v1/pairings/claim', { uid, code, name });
  }

  introduce(to: string, name?: string): Promise<{ id: string; expiresAt: string }> {
    return this.req('POST', '/v1/introductions', name === undefined ? { to } : { to, name });
  }

  async listIntroductions(): Promise<Introduction[]> {
    return (await this.req<{ introductions: Introduction[] }>('GET', '/v1/introductions')).introductions;
  }

  confirmIntroduction(id: string, name?: string): Promise<{ un: string; friend: string }> {
    return this.req('POST', `/v1/introductions/${enc(id)}/confirm`, name === undefined ? {} : { name });
  }

  /** Sends a message to the device's agent over its push channel (the proxy's Migration-To-Request). */
  push(did: string, message: PushMessage): Promise<{ id: string; delivered: DeliveryResult }> {
    return this.req('POST', `/v1/push/${enc(did)}`, message);
  }

  /** The proxy's Migration-To-Request to the target device's agent (CONTRACTS.md). */
  pushMigration(did: string, request: MigrationRequest): Promise<{ id: string; delivered: DeliveryResult }> {
    return this.push(did, request as unknown as PushMessage);
  }

  /** The proxy's credential check; null when the token is wrong or the device revoked. */
  async verifyDevice(did: string, token: string): Promise<{ uid: string; device: string; did: string } | null> {
    try {
      return await this.req('POST', '/v1/auth/device', { did, token });
    } catch (err) {
      if ((err as { status?: number }).status === 401) return null;
      throw err;
    }
  }

  /** Opens the push channel with this client's credentials (an agent's DID:token, or the service key). */
  openPush(opts: Omit<PushSubscriberOptions, 'url' | 'authorization' | 'ca'> = {}): PushSubscriber {
    const authorization = this.authorization;
    if (!authorization) throw new Error('the push channel needs credentials');
    const sub = new PushSubscriber({ ...opts, url: this.opts.url, authorization, ca: this.opts.ca });
    this.channels.add(sub);
    return sub;
  }

  /** A proxy's view of devices' CoA changes (paper V.B.4): subscribes and reports each `coa` event. */
  watchDevices(dids: string[], onEvent: (ev: { did: string; status: string; coa: string | null; lastSeen: string | null }) => void): PushSubscriber {
    const sub = this.openPush();
    sub.on('message', (m) => {
      if (m.type === 'coa') onEvent(m as unknown as { did: string; status: string; coa: string | null; lastSeen: string | null });
    });
    sub.subscribe(dids);
    return sub;
  }

  close(): void {
    this.http.close();
  }
}
