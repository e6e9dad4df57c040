import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { formatHostPort, type HostPort } from '../common/host-port.js';
import { silentLogger, type Logger } from '../common/logger.js';
import type { DeviceAuthenticator } from './auth/device-authenticator.js';
import { LocalControlBackend } from './control/control-backend.js';
import { buildControlServer } from './control/control-server.js';
import { ProxyMetrics } from './control/metrics.js';
import { DialError } from './front/dial.js';
import { createFrontHandler, type FrontHandler } from './front/front-server.js';
import type { PendingConnect } from './front/types.js';
import { applyDeviceSocketOptions, setOnListener, type DeviceSocketOptions } from './front/listener-socket-options.js';
import { MigrationManager } from './migration/migration-manager.js';
import { resolveProxyOptions, type ClusterHooks, type ProxyComponents, type ProxyOptions, type ResolvedProxyOptions } from './proxy-options.js';
import { ConnectionRegistry } from './registry/connection-registry.js';
import { RelayConnection, type AttachingDevice } from './relay/relay-connection.js';
import { ticketOf } from './migration/ticket-destination.js';
import { ServerMigrationRegistry } from './upstream/server-migrations.js';
import { UpstreamDialer, type Upstream } from './upstream/upstream-dialer.js';
import { ReadBlockPool } from './relay/read-block-pool.js';

/**
 * The SMP proxy (paper section IV; DESIGN.md "proxy"): one front port for SOCKS5 and HTTP
 * CONNECT, a split relay per connection, migrations between a user's devices, and the control
 * API. `start()` binds both listeners; `close()` releases everything.
 */
export class Proxy {
  readonly options: ResolvedProxyOptions;
  readonly connections: ConnectionRegistry;
  readonly migrations: MigrationManager;
  /** M-TCP connections (destinations that are pools) and their server migrations. */
  readonly serverMigrations: ServerMigrationRegistry;
  private readonly upstream: UpstreamDialer;
  /** Server sockets' reads: one reused buffer and pooled blocks, no allocation per read. */
  private readonly readPool = new ReadBlockPool();
  private readonly cluster: ClusterHooks | undefined;
  readonly metrics: ProxyMetrics;
  private readonly authenticator: DeviceAuthenticator;
  private readonly log: Logger;
  private readonly front: Server;
  private readonly frontHandler: FrontHandler;
  private control: FastifyInstance | undefined;
  private readonly devices = new Set<Socket>();
  /**
   * Keepalive, and a user timeout (RFC 5482) of twice its idle time: unacknowledged data past
   * that means the device is gone.
   */
  private readonly deviceSocketOptions: DeviceSocketOptions;
  /** Set on the listening socket, so accepted sockets inherit them (listener-socket-options.ts). */
  private listenerCarriesOptions = false;

  constructor(options: ProxyOptions, components: ProxyComponents) {
    this.options = resolveProxyOptions(options);
    this.deviceSocketOptions = { keepaliveMs: this.options.keepaliveMs, userTimeoutMs: 2 * this.options.keepaliveMs };
    this.authenticator = components.authenticator;
    this.log = components.logger ?? silentLogger;
    this.cluster = components.cluster;
    const idPrefix = this.cluster?.idPrefix ?? '';
    this.connections = new ConnectionRegistry(idPrefix);
    this.migrations = new MigrationManager(
      this.connections,
      { migrationTimeoutMs: this.options.migrationTimeoutMs, drainWaitMs: this.options.drainWaitMs, historySize: 10_000, idPrefix },
      this.log,
    );
    const handle = createFrontHandler(
      { authenticator: this.authenticator, logger: this.log, onConnect: (pending) => this.route(pending) },
      { handshakeTimeoutMs: this.options.handshakeTimeoutMs, maxHttpHeaderBytes: this.options.maxHeaderBytes },
    );
    this.frontHandler = handle;
    this.serverMigrations = new ServerMigrationRegistry({ idPrefix, historySize: 10_000 }, this.log);
    this.upstream = new UpstreamDialer(this.options.mtcp, this.log);
    this.metrics = new ProxyMetrics(this.connections, this.migrations, () => handle.stats(), this.serverMigrations);
    // allowHalfOpen: a device's FIN is an ordinary half-close passed to the server (issue 2).
    this.front = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      this.devices.add(socket);
      socket.once('close', () => this.devices.delete(socket));
      if (!this.listenerCarriesOptions) applyDeviceSocketOptions(socket, this.deviceSocketOptions);
      handle(socket);
    });
    this.front.maxConnections = this.options.maxConnections;
  }

  async start(): Promise<{ listen: HostPort; control: HostPort | null }> {
    const listen = await listenOn(this.front, this.options.listen);
    if (setOnListener(this.front, this.deviceSocketOptions)) {
      // A connection the kernel completed between listen() and the setsockopt is a copy of the
      // listener as it was then. libuv accepts every queued connection in the first poll that
      // follows, so set options one by one until a whole poll phase has passed.
      setImmediate(() => setImmediate(() => (this.listenerCarriesOptions = true)));
    }
    let control: HostPort | null = null;
    if (this.options.control) {
      this.control = buildControlServer({
        authenticator: this.authenticator,
        backend: new LocalControlBackend(this.connections, this.migrations, this.serverMigrations),
        metrics: async () => ({ contentType: this.metrics.registry.contentType, text: await this.metrics.registry.metrics() }),
        ...(this.options.tls ? { tls: this.options.tls } : {}),
      });
      await this.control.listen({ host: this.options.control.host, port: this.options.control.port });
      const addr = this.control.server.address() as AddressInfo;
      control = { host: this.options.control.host, port: addr.port };
    }
    this.log.info({ listen: formatHostPort(listen), control: control && formatHostPort(control) }, 'proxy listening');
    return { listen, control };
  }

  private readonly closeHooks: (() => void)[] = [];

  /** Runs `fn` when the proxy closes (for collaborators wired around it). */
  onClose(fn: () => void): void {
    this.closeHooks.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.closeHooks) fn();
    this.migrations.close();
    for (const conn of [...this.connections.all()]) conn.close('proxy shutting down');
    this.frontHandler.closeAll();
    for (const socket of this.devices) socket.destroy();
    await Promise.all([
      new Promise<void>((resolve) => this.front.close(() => resolve())),
      this.control?.close(),
      this.authenticator.close?.(),
    ]);
  }

  /** A device finished its handshake: attach it to a migration, or open a new connection. */
  private async route(pending: PendingConnect): Promise<void> {
    const destination = formatHostPort(pending.destination);
    const ticket = ticketOf(pending.destination.host);
    const migration = this.migrations.match(pending.identity, destination, ticket);
    if (migration) return this.attach(pending, migration.id);
    // No await without workers: one promise and one turn of the microtask queue fewer per connection.
    const owner = this.cluster ? await this.cluster.findOwner(pending.identity, destination, ticket) : undefined;
    if (owner !== undefined && this.cluster) {
      pending.accept({ address: '0.0.0.0', port: 0 });
      await this.cluster.handoff(owner, this.attaching(pending), pending.acceptedAt, destination, ticket);
      return;
    }
    if (ticket !== undefined) {
      pending.reject('not-allowed'); // unknown, used, expired, or another device's ticket
      return;
    }
    // A plain TCP socket, or an M-TCP connection when the destination is a configured pool.
    let up: Upstream;
    try {
      up = await this.upstream.dial(pending.destination, { timeoutMs: this.options.connectTimeoutMs, keepaliveMs: this.options.keepaliveMs, readPool: this.readPool });
    } catch (err) {
      pending.reject(err instanceof DialError ? err.failure : 'general');
      return;
    }
    const server = up.server;
    if (pending.socket.destroyed) {
      server.destroy();
      return;
    }
    pending.accept(up.bound);
    const conn = new RelayConnection(
      this.connections.newId(),
      pending.identity.uid,
      destination,
      pending.protocol,
      server,
      this.attaching(pending),
      {
        maxBuffer: this.options.maxBuffer,
        // Each trim asks the kernel (one getsockopt, about 2 µs); every 256 KiB keeps the replay
        // cache near what is really unacknowledged without showing in a profile (docs/bench.md).
        trimThreshold: Math.min(256 * 1024, this.options.maxBuffer / 4),
        // ...and at a read 250 ms after the last question: a slow stream's chunks then die before the
        // next young-generation collection (about one a second at 1,000 streams) instead of
        // surviving it (a getsockopt each: 4 a second per stream at most).
        trimIntervalMs: 250,
        detachHoldMs: this.options.detachHoldMs,
        letGoTimeoutMs: this.options.letGoTimeoutMs,
        closeGraceMs: 10_000,
        recycle: (chunk) => this.readPool.release(chunk),
      },
      this.log,
    );
    this.connections.add(conn);
    if (up.mtcp) this.serverMigrations.track(conn, up.mtcp); // same tick as the dial: no event missed
    this.log.debug({ conn: conn.id, did: pending.identity.did, destination }, 'relaying');
  }

  private attach(pending: PendingConnect, migrationId: string): Promise<void> {
    pending.accept({ address: '0.0.0.0', port: 0 });
    return this.adopt(this.attaching(pending), migrationId, pending.acceptedAt);
  }

  /**
   * Attaches a device whose handshake is done (here, or in another worker that handed the socket
   * over) to a waiting migration of this proxy.
   */
  async adopt(dev: AttachingDevice, migrationId: string, connectedAt: number): Promise<void> {
    const migration = this.migrations.get(migrationId);
    if (!migration) {
      dev.socket.destroy();
      return;
    }
    try {
      await this.migrations.attach(migration, dev, connectedAt);
      const t = migration.toJSON().timings as Record<string, number | undefined>;
      if (t.connectToFirstByteMs !== undefined) this.metrics.migrationLatency.observe({ phase: 'connect_to_first_byte' }, t.connectToFirstByteMs / 1000);
      if (t.requestToResumeMs !== undefined) this.metrics.migrationLatency.observe({ phase: 'request_to_resume' }, t.requestToResumeMs / 1000);
    } catch (err) {
      this.log.info({ migration: migrationId, err: (err as Error).message }, 'attach failed');
      dev.socket.destroy();
    }
  }

  private attaching(pending: PendingConnect): AttachingDevice {
    return {
      identity: pending.identity,
      protocol: pending.protocol,
      socket: pending.socket,
      preamble: pending.preambleBytes(),
      head: pending.head,
    };
  }
}

function listenOn(server: Server, at: HostPort): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve({ host: at.host, port: (server.address() as AddressInfo).port });
    });
  });
}
