import type { DeviceIdentity } from '../auth/device-authenticator.js';
import { conflict, notFound } from '../migration/errors.js';
import type { MigrationManager } from '../migration/migration-manager.js';
import type { ConnectionRegistry } from '../registry/connection-registry.js';
import type { ServerMigrationRegistry } from '../upstream/server-migrations.js';

export type ConnectionView = Record<string, unknown> & { id: string; uid: string };
export type MigrationView = Record<string, unknown> & { id: string };

/**
 * What the control API needs from the data plane, with every call scoped to the caller's user.
 * One process answers from its own registry (`LocalControlBackend`); a multi-process proxy's
 * primary answers by asking its workers (`src/proxy/cluster/`).
 */
export interface ControlBackend {
  listConnections(uid: string): Promise<ConnectionView[]>;
  getConnection(uid: string, id: string): Promise<ConnectionView>;
  closeConnection(uid: string, id: string): Promise<void>;
  startMigration(uid: string, id: string, target: DeviceIdentity, snapshot: unknown): Promise<MigrationView>;
  /** M-TCP: moves the server end of a pool connection to member `to` (or the next one). */
  migrateServer(uid: string, id: string, to: string | undefined): Promise<MigrationView>;
  /** With `waitMs` > 0 a device migration that has not ended is answered when it ends, or after `waitMs`. */
  getMigration(uid: string, id: string, waitMs?: number): Promise<MigrationView>;
  listMigrations(uid: string): Promise<MigrationView[]>;
}

export class LocalControlBackend implements ControlBackend {
  constructor(
    private readonly connections: ConnectionRegistry,
    private readonly migrations: MigrationManager,
    private readonly servers?: ServerMigrationRegistry,
  ) {}

  /** The registry's view plus `mtcp`: null for a plain server side, else the pool member serving it. */
  private view(conn: Parameters<ConnectionRegistry['describe']>[0]): ConnectionView {
    return { ...this.connections.describe(conn), mtcp: this.servers?.describe(conn.id) ?? null } as unknown as ConnectionView;
  }

  private own(uid: string, id: string) {
    const conn = this.connections.get(id);
    if (!conn || conn.uid !== uid) throw notFound('connection', id);
    return conn;
  }

  async listConnections(uid: string): Promise<ConnectionView[]> {
    return this.connections.ofUser(uid).map((c) => this.view(c));
  }

  async getConnection(uid: string, id: string): Promise<ConnectionView> {
    return this.view(this.own(uid, id));
  }

  async closeConnection(uid: string, id: string): Promise<void> {
    this.own(uid, id).close('closed through the control API');
  }

  async startMigration(uid: string, id: string, target: DeviceIdentity, snapshot: unknown): Promise<MigrationView> {
    return { kind: 'device', ...this.migrations.start(this.own(uid, id), target, snapshot).toJSON(true) } as unknown as MigrationView;
  }

  async migrateServer(uid: string, id: string, to: string | undefined): Promise<MigrationView> {
    const conn = this.own(uid, id); // 404 for unknown ids and other users' ids, as for /migrate
    if (!this.servers) throw conflict('ERR_NOT_MTCP', `connection ${conn.id} does not go to an M-TCP pool`);
    return this.servers.start(uid, conn.id, to) as unknown as MigrationView;
  }

  async getMigration(uid: string, id: string, waitMs = 0): Promise<MigrationView> {
    if (this.servers?.has(id)) return this.servers.get(uid, id) as unknown as MigrationView;
    const m = this.migrations.get(id);
    if (!m || m.uid !== uid) throw notFound('migration', id);
    await this.migrations.whenFinished(m, waitMs);
    // The ticket is for the devices of the user the migration belongs to.
    return { kind: 'device', ...m.toJSON(true) } as unknown as MigrationView;
  }

  /** Device and server migrations together, newest first. */
  async listMigrations(uid: string): Promise<MigrationView[]> {
    const device = this.migrations.recentOf(uid).map((m) => ({ kind: 'device', ...m.toJSON(false) }) as unknown as MigrationView);
    const server = (this.servers?.recentOf(uid) ?? []) as unknown as MigrationView[];
    const requested = (v: MigrationView) => (v.phases as { requested?: number } | undefined)?.requested ?? 0;
    return [...device, ...server].sort((a, b) => requested(b) - requested(a)).slice(0, 50);
  }
}
