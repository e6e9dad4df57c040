import type { DeviceIdentity } from '../auth/device-authenticator.js';
import { notFound } from '../migration/errors.js';
import type { MigrationManager } from '../migration/migration-manager.js';
import type { ConnectionRegistry } from '../registry/connection-registry.js';

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
  getMigration(uid: string, id: string): Promise<MigrationView>;
  listMigrations(uid: string): Promise<MigrationView[]>;
}

export class LocalControlBackend implements ControlBackend {
  constructor(
    private readonly connections: ConnectionRegistry,
    private readonly migrations: MigrationManager,
  ) {}

  private own(uid: string, id: string) {
    const conn = this.connections.get(id);
    if (!conn || conn.uid !== uid) throw notFound('connection', id);
    return conn;
  }

  async listConnections(uid: string): Promise<ConnectionView[]> {
    return this.connections.ofUser(uid).map((c) => this.connections.describe(c) as ConnectionView);
  }

  async getConnection(uid: string, id: string): Promise<ConnectionView> {
    return this.connections.describe(this.own(uid, id)) as ConnectionView;
  }

  async closeConnection(uid: string, id: string): Promise<void> {
    this.own(uid, id).close('closed through the control API');
  }

  async startMigration(uid: string, id: string, target: DeviceIdentity, snapshot: unknown): Promise<MigrationView> {
    return this.migrations.start(this.own(uid, id), target, snapshot).toJSON(true) as MigrationView;
  }

  async getMigration(uid: string, id: string): Promise<MigrationView> {
    const m = this.migrations.get(id);
    if (!m || m.uid !== uid) throw notFound('migration', id);
    // The ticket is for the devices of the user the migration belongs to.
    return m.toJSON(true) as MigrationView;
  }

  async listMigrations(uid: string): Promise<MigrationView[]> {
    return this.migrations.recentOf(uid).map((m) => m.toJSON(false) as MigrationView);
  }
}
