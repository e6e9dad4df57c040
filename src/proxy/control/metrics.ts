import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FrontStats } from '../front/front-server.js';
import type { MigrationManager } from '../migration/migration-manager.js';
import type { ConnectionRegistry } from '../registry/connection-registry.js';
import type { ServerMigrationRegistry } from '../upstream/server-migrations.js';

/**
 * The proxy's Prometheus metrics. Gauges are computed when scraped, from the registry and the
 * migration manager, so the relay's hot path does no metrics work at all.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  readonly migrationLatency: Histogram<'phase'>;
  readonly handoffs: Counter;

  constructor(connections: ConnectionRegistry, migrations: MigrationManager, front: () => FrontStats, servers?: ServerMigrationRegistry) {
    const r = this.registry;
    new Gauge({
      name: 'tsmp_proxy_connections',
      help: 'Relayed connections by state',
      labelNames: ['state'],
      registers: [r],
      collect() {
        const counts: Record<string, number> = { relaying: 0, migrating: 0, detached: 0 };
        for (const c of connections.all()) counts[c.state] = (counts[c.state] ?? 0) + 1;
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'tsmp_proxy_connections_opened_total',
      help: 'Connections relayed since start',
      registers: [r],
      collect() {
        this.set(connections.opened);
      },
    });
    new Gauge({
      name: 'tsmp_proxy_bytes_total',
      help: 'Payload bytes relayed, by direction',
      labelNames: ['direction'],
      registers: [r],
      collect() {
        let down = connections.closedBytesDown;
        let up = connections.closedBytesUp;
        for (const c of connections.all()) {
          down += c.bytesDown;
          up += c.bytesUp;
        }
        this.set({ direction: 'down' }, down);
        this.set({ direction: 'up' }, up);
      },
    });
    new Gauge({
      name: 'tsmp_proxy_migrations_total',
      help: 'Migrations by outcome',
      labelNames: ['outcome'],
      registers: [r],
      collect() {
        for (const [outcome, n] of Object.entries(migrations.counts)) this.set({ outcome }, n);
      },
    });
    new Gauge({
      name: 'tsmp_proxy_handshakes_failed_total',
      help: 'Device connections refused or dropped during the SOCKS5 / CONNECT handshake, by reason',
      labelNames: ['reason'],
      registers: [r],
      collect() {
        for (const [reason, n] of Object.entries(front().failed)) this.set({ reason }, n);
      },
    });
    new Gauge({
      name: 'tsmp_proxy_handshakes_pending',
      help: 'Handshakes in progress',
      registers: [r],
      collect() {
        this.set(front().pending);
      },
    });
    this.handoffs = new Counter({
      name: 'tsmp_proxy_worker_handoffs_total',
      help: 'Target device sockets passed to the worker holding their migration (--workers)',
      registers: [r],
    });
    this.migrationLatency = new Histogram({
      name: 'tsmp_proxy_migration_seconds',
      help: 'Migration phase durations',
      labelNames: ['phase'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [r],
    });
    if (servers) this.serverMigrationMetrics(servers);
  }

  /** M-TCP (issue 5): connections whose server side is a pool, and the server migrations. */
  private serverMigrationMetrics(servers: ServerMigrationRegistry): void {
    const r = this.registry;
    new Gauge({
      name: 'tsmp_proxy_mtcp_connections',
      help: 'Relayed connections whose server side is an M-TCP pool',
      registers: [r],
      collect() {
        this.set(servers.size);
      },
    });
    const total = new Counter({
      name: 'tsmp_proxy_server_migrations_total',
      help: 'M-TCP server migrations by trigger (demand, failure, policy) and event (started, done, failed)',
      labelNames: ['trigger', 'outcome'],
      registers: [r],
    });
    const seconds = new Histogram({
      name: 'tsmp_proxy_server_migration_seconds',
      help: 'M-TCP server migration phases: reconnect (detach to TCP up), resume (detach to RESUMED), transfer (state transfer, measured by the new member)',
      labelNames: ['phase'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [r],
    });
    for (const trigger of ['demand', 'failure', 'policy']) for (const outcome of ['started', 'done', 'failed']) total.inc({ trigger, outcome }, 0);
    servers.observers.push((event, record) => {
      total.inc({ trigger: record.trigger, outcome: event });
      if (event !== 'done') return;
      if (record.timings.reconnectMs !== undefined) seconds.observe({ phase: 'reconnect' }, record.timings.reconnectMs / 1000);
      if (record.timings.resumeMs !== undefined) seconds.observe({ phase: 'resume' }, record.timings.resumeMs / 1000);
      if (record.transfer) seconds.observe({ phase: 'transfer' }, record.transfer.ms / 1000);
    });
  }
}
