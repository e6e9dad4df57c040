/**
 * The name server process (SMPS, paper section V): a store, the services, the HTTP API and the
 * push channel, with LISTEN/NOTIFY fan-out when the store is PostgreSQL.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createLogger, type Logger } from '../common/logger.js';
import { buildApp, DEFAULT_RATE_LIMITS, type RateLimits } from './api/build-app.js';
import { LocalFanout, PgFanout, type Fanout } from './push/fanout.js';
import { PushHub } from './push/push-hub.js';
import { attachPushEndpoint } from './push/ws-endpoint.js';
import type { ServiceSettings } from './service/context.js';
import { NameService, resolveSettings } from './service/name-service.js';
import type { NameStore } from './store/name-store.js';
import { openStore } from './store/open-store.js';
import { PostgresStore } from './store/postgres-store.js';

export interface NameServerOptions {
  /** A SQLite file path (or `:memory:`), or a `postgres://` URL. */
  db: string;
  /** PostgreSQL schema. @default "public" */
  schema?: string;
  /** @default "127.0.0.1" */
  host?: string;
  /** 0 asks the kernel for a free port. @default 7000 */
  port?: number;
  tls?: { cert: Buffer; key: Buffer };
  settings?: Partial<ServiceSettings>;
  rateLimits?: RateLimits;
  /** @default 65536 */
  bodyLimit?: number;
  /** WebSocket ping period. @default 30000 */
  pushPingIntervalMs?: number;
  /** A push session with more unsent bytes than this is closed (a peer that never reads). @default 1 MiB */
  pushMaxBufferedBytes?: number;
  /** Largest frame a push-channel client may send (RPC requests, subscriptions). @default 65536 */
  pushMaxPayload?: number;
  /** RPC requests one push session may have unanswered at once. @default 256 */
  rpcMaxInFlight?: number;
  /**
   * SQLite: a heartbeat that changes only `last_seen` is written when the row's value is at
   * least this old (docs/names.md, "Presence in memory"); 0 writes every one.
   * @default heartbeat interval × missed heartbeats
   */
  presenceWriteMs?: number;
  /** SQLite: devices kept in memory (about 300 bytes each); 0 turns the cache off. @default 200000 */
  cachedDevices?: number;
  log?: Logger;
}

export class NameServer {
  private constructor(
    readonly service: NameService,
    readonly store: NameStore,
    readonly hub: PushHub,
    readonly url: string,
    readonly port: number,
    private readonly shutdown: () => Promise<void>,
  ) {}

  static async start(opts: NameServerOptions): Promise<NameServer> {
    const log = opts.log ?? createLogger('names');
    const s = resolveSettings(opts.settings ?? {});
    const store = await openStore(opts.db, { schema: opts.schema, presenceWriteMs: opts.presenceWriteMs ?? s.heartbeatIntervalMs * s.missedHeartbeats,
      cachedDevices: opts.cachedDevices,
    });
    const service = new NameService(store, opts.settings ?? {}, { log });
    const fanout: Fanout = store instanceof PostgresStore ? await PgFanout.open(opts.db, store.pool, store.schema, log) : new LocalFanout();
    const settings = service.ctx.settings;
    const hub = new PushHub(
      { maxBufferedBytes: opts.pushMaxBufferedBytes ?? 1 << 20, maxSubscriptions: 100_000, sweepIntervalMs: Math.max(50, Math.floor(settings.heartbeatIntervalMs / 2)) },
      fanout,
      (dids) => service.presence.current(dids),
      log,
    );
    service.setEventSink(hub);
    const app = await buildApp(service, { bodyLimit: opts.bodyLimit ?? 65_536, rateLimits: opts.rateLimits ?? DEFAULT_RATE_LIMITS, tls: opts.tls }, log);
    const detachPush = attachPushEndpoint(
      app.server as Server,
      service,
      hub,
      { maxPayload: opts.pushMaxPayload ?? 65_536, pingIntervalMs: opts.pushPingIntervalMs ?? 30_000, maxInFlight: opts.rpcMaxInFlight ?? 256, resolveRateLimit: (opts.rateLimits ?? DEFAULT_RATE_LIMITS).mixed },
      log,
    );
    try {
      await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 7000 });
    } catch (err) {
      detachPush();
      hub.close();
      await fanout.close();
      await store.close();
      throw err;
    }
    const addr = app.server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const url = `${opts.tls ? 'https' : 'http'}://${host}:${addr.port}`;
    log.info({ url, store: store.kind }, 'name server listening');
    return new NameServer(service, store, hub, url, addr.port, async () => {
      detachPush();
      hub.close();
      await app.close();
      await fanout.close();
      await store.close();
    });
  }

  async close(): Promise<void> {
    await this.shutdown();
  }
}
