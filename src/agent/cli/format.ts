import type { ConnectionView, MigrationRecord } from '../daemon/agent-state.js';
import type { ProxyConnection, ProxyMigration } from '../daemon/proxy-control-client.js';

export function bytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

export function shortDid(did: string | null | undefined): string {
  return did ? (did.split('.')[0] ?? did) : '-';
}

/** Plain columns, aligned, no colours: readable piped as well as on a terminal. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function connectionsTable(list: Array<ProxyConnection | ConnectionView>): string {
  if (!list.length) return '(no live connections)';
  return table(
    ['ID', 'DESTINATION', 'ON', 'STATE', 'DOWN', 'UP', 'SINCE'],
    list.map((c) => [c.id, c.destination, shortDid(c.device), c.state, bytes(c.bytesDown), bytes(c.bytesUp), c.startedAt]),
  );
}

const PHASE_ORDER = ['requested', 'paused', 'waiting', 'attached', 'firstByte', 'resumed', 'done', 'rolledBack', 'failed'] as const;

/** `paused +0 ms, attached +143 ms, ...` relative to the request. */
export function phaseTimings(m: Pick<ProxyMigration, 'phases'>): string {
  const t0 = m.phases.requested;
  if (t0 === undefined) return '';
  return PHASE_ORDER.filter((p) => m.phases[p] !== undefined)
    .map((p) => `${p} +${Math.round(m.phases[p]! - t0)} ms`)
    .join(', ');
}

export function migrationSummary(m: ProxyMigration): string {
  const end = m.phases.done ?? m.phases.rolledBack ?? m.phases.failed;
  const total = end !== undefined && m.phases.requested !== undefined ? `${Math.round(end - m.phases.requested)} ms` : '?';
  const error = m.error ? ` (${typeof m.error === 'string' ? m.error : m.error.message})` : '';
  return `migration ${m.id}: ${shortDid(m.from)} -> ${shortDid(m.to)} ${m.state} in ${total}, ${bytes(m.bytesReplayed)} replayed${error}\n  ${phaseTimings(m)}`;
}

export function migrationsTable(list: MigrationRecord[]): string {
  if (!list.length) return '(no migrations yet)';
  return table(
    ['MIGRATION', 'DIR', 'CONNECTION', 'FROM', 'TO', 'STATE', 'HANDLER', 'TOTAL'],
    list.map((m) => {
      const start = m.phases.requested ?? m.phases.received;
      const end = m.phases.done ?? m.phases.handled ?? m.phases.rolledBack ?? m.phases.failed;
      return [m.id, m.direction, m.connection, shortDid(m.from), shortDid(m.to), m.state, m.handler ?? '-', start && end ? `${Math.round(end - start)} ms` : '-'];
    }),
  );
}
