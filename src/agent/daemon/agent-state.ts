import { EventEmitter } from 'node:events';
import type { HandlerOutcome } from '../handlers/handler-types.js';
import type { MigrationPhase, ProxyConnection, ProxyMigration } from './proxy-control-client.js';

export interface DeviceView {
  did: string;
  name: string;
  status: 'online' | 'offline';
  coa: string | null;
  lastSeen: string | null;
  /** This agent's own device. */
  self: boolean;
}

export interface ConnectionView extends ProxyConnection {
  /** Bytes per second over the last poll interval. */
  rateDown: number;
  rateUp: number;
}

/** A migration this agent asked for (outgoing) or received (incoming), with its timings. */
export interface MigrationRecord {
  id: string;
  direction: 'outgoing' | 'incoming';
  connection: string;
  destination: string | null;
  from: string | null;
  to: string | null;
  state: ProxyMigration['state'] | 'receiving' | 'handled';
  /** Epoch ms per phase, from the proxy, plus the agent's own `received` / `handled` on the target. */
  phases: Partial<Record<MigrationPhase | 'received' | 'handled', number>>;
  handler?: string;
  outcome?: HandlerOutcome;
  bytesReplayed?: number;
  error?: string;
}

export interface AgentStatus {
  did: string;
  coa: string | null;
  nameserver: 'unknown' | 'ok' | 'unreachable';
  push: 'connecting' | 'open' | 'closed';
  proxy: 'unknown' | 'ok' | 'unreachable';
  lastHeartbeat: string | null;
  startedAt: string;
}

/** One of the user's devices seen over mDNS on the local network (paper V.B.2). */
export interface LanDeviceView {
  device: string;
  addresses: string[];
}

export type StateEvent =
  | { kind: 'status'; status: AgentStatus }
  | { kind: 'lan'; lan: LanDeviceView[] }
  | { kind: 'devices'; devices: DeviceView[] }
  | { kind: 'connections'; connections: ConnectionView[] }
  | { kind: 'migration'; migration: MigrationRecord };

/** How many finished migrations are kept for `tsmp status` and the dashboard. */
export const DEFAULT_MIGRATION_HISTORY = 50;

/**
 * What the agent knows right now, in one place, for the CLI's `status`, the dashboard and its
 * live updates (every change is an event).
 */
export class AgentState extends EventEmitter<{ change: [StateEvent] }> {
  status: AgentStatus;
  devices: DeviceView[] = [];
  connections: ConnectionView[] = [];
  lan: LanDeviceView[] = [];
  readonly #migrations = new Map<string, MigrationRecord>();
  readonly #history: number;
  #lastPoll = 0;

  constructor(did: string, options: { history?: number } = {}) {
    super();
    this.#history = options.history ?? DEFAULT_MIGRATION_HISTORY;
    this.status = { did, coa: null, nameserver: 'unknown', push: 'connecting', proxy: 'unknown', lastHeartbeat: null, startedAt: new Date().toISOString() };
  }

  get migrations(): MigrationRecord[] {
    return [...this.#migrations.values()].reverse();
  }

  setStatus(patch: Partial<AgentStatus>): void {
    const next = { ...this.status, ...patch };
    if (JSON.stringify(next) === JSON.stringify(this.status)) return;
    this.status = next;
    this.emit('change', { kind: 'status', status: next });
  }

  setDevices(devices: DeviceView[]): void {
    if (JSON.stringify(devices) === JSON.stringify(this.devices)) return;
    this.devices = devices;
    this.emit('change', { kind: 'devices', devices });
  }

  setLan(lan: LanDeviceView[]): void {
    if (JSON.stringify(lan) === JSON.stringify(this.lan)) return;
    this.lan = lan;
    this.emit('change', { kind: 'lan', lan });
  }

  /** Takes a fresh listing from the proxy and derives throughput from the previous one. */
  setConnections(list: ProxyConnection[], now = Date.now()): void {
    const dt = this.#lastPoll ? (now - this.#lastPoll) / 1000 : 0;
    const before = new Map(this.connections.map((c) => [c.id, c]));
    this.#lastPoll = now;
    this.connections = list.map((c) => {
      const prev = before.get(c.id);
      const rate = (a: number, b: number | undefined) => (prev && dt > 0 && b !== undefined ? Math.max(0, Math.round((a - b) / dt)) : 0);
      return { ...c, rateDown: rate(c.bytesDown, prev?.bytesDown), rateUp: rate(c.bytesUp, prev?.bytesUp) };
    });
    this.emit('change', { kind: 'connections', connections: this.connections });
  }

  recordMigration(record: MigrationRecord): void {
    const existing = this.#migrations.get(record.id);
    const merged: MigrationRecord = existing ? { ...existing, ...record, phases: { ...existing.phases, ...record.phases } } : record;
    this.#migrations.delete(record.id);
    this.#migrations.set(record.id, merged);
    while (this.#migrations.size > this.#history) {
      const oldest = this.#migrations.keys().next().value;
      if (oldest === undefined) break;
      this.#migrations.delete(oldest);
    }
    this.emit('change', { kind: 'migration', migration: merged });
  }

  snapshot(): { status: AgentStatus; devices: DeviceView[]; connections: ConnectionView[]; migrations: MigrationRecord[]; lan: LanDeviceView[] } {
    return { status: this.status, devices: this.devices, connections: this.connections, migrations: this.migrations, lan: this.lan };
  }
}
