import { TsmpError } from '../../common/errors.js';
import type { MigrationAwareApps } from '../app-api.js';
import { parseHandlerSpec } from '../handlers/handler-spec.js';
import type { AgentState, MigrationRecord } from './agent-state.js';
import type { ProxyConnection, ProxyControlClient, ProxyMigration } from './proxy-control-client.js';

export interface MoveOptions {
  /** Per-migration handler override on the target (`--handler`); checked here, run there. */
  handler?: string;
  onUpdate?: (m: ProxyMigration) => void;
  /** Bound on the whole migration as seen from here. @default 120000 */
  timeoutMs?: number;
  /** Poll interval of the migration's phases. @default 100 */
  intervalMs?: number;
}

/**
 * Finds a connection by id, or by a unique prefix of its id (as `git` takes short hashes), among
 * the user's live connections.
 */
export function findConnection(connections: ProxyConnection[], idOrPrefix: string): ProxyConnection {
  const exact = connections.find((c) => c.id === idOrPrefix);
  if (exact) return exact;
  const matches = connections.filter((c) => c.id.startsWith(idOrPrefix));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new TsmpError('ERR_AMBIGUOUS', `"${idOrPrefix}" matches ${matches.length} connections; give more of the id`);
  throw new TsmpError('ERR_NOT_FOUND', `no live connection "${idOrPrefix}" (see tsmp ls)`);
}

/**
 * Moves a connection to another device of the user (paper IV.D): collects the migration-aware
 * app's snapshot (M-TCP export) and the handler override, asks the proxy, and follows the
 * migration's phases until it is done, rolled back or failed.
 */
export async function moveConnection(
  deps: { control: ProxyControlClient; apps: MigrationAwareApps; state?: AgentState },
  idOrPrefix: string,
  to: string,
  options: MoveOptions = {},
): Promise<ProxyMigration> {
  if (options.handler) parseHandlerSpec(options.handler); // a typo fails here, not on the target
  const connection = findConnection(await deps.control.listConnections(), idOrPrefix);
  const snapshot = await deps.apps.exportFor({ id: connection.id, destination: connection.destination }, options.handler);
  const started = await deps.control.migrate(connection.id, to, snapshot as never);
  const record = (m: ProxyMigration): MigrationRecord => ({
    id: m.id,
    direction: 'outgoing',
    connection: m.connection,
    destination: connection.destination,
    from: m.from,
    to: m.to,
    state: m.state,
    phases: m.phases,
    bytesReplayed: m.bytesReplayed,
    ...(options.handler ? { handler: options.handler } : {}),
    ...(m.error ? { error: typeof m.error === 'string' ? m.error : m.error.message } : {}),
  });
  deps.state?.recordMigration(record(started));
  options.onUpdate?.(started);
  return deps.control.follow(
    started.id,
    (m) => {
      deps.state?.recordMigration(record(m));
      options.onUpdate?.(m);
    },
    { ...(options.intervalMs ? { intervalMs: options.intervalMs } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) },
  );
}
