import type { MigrationRecord } from '../agent/daemon/agent-state.js';
import type { ProxyConnection, ProxyMigration } from '../agent/daemon/proxy-control-client.js';
import { TsmpError } from '../common/errors.js';
import type { DemoDevice } from './demo-stack.js';
import { sleep, waitFor } from './waits.js';

/** `tsmp ls` on a device: the user's live connection to `destination`, once the proxy lists it. */
export async function findLiveConnection(device: DemoDevice, destination: string, timeoutMs = 5_000): Promise<ProxyConnection> {
  const control = device.agent.daemon.control!;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await control.listConnections()).find((c) => c.destination === destination && c.state === 'relaying');
    if (found) return found;
    if (Date.now() > deadline) throw new TsmpError('ERR_NOT_FOUND', `no live connection to ${destination} at the proxy after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/**
 * `tsmp migrate <id> --to <device>` run on `device` while its agent is up: the CLI asks the
 * running agent (its dashboard API, `POST /api/move`), so that the agent's migration-aware apps
 * export their state into the request (src/cli/commands/agent.ts), then follows the migration's
 * phases at the proxy's control API. These are the same two calls.
 */
export async function moveViaAgent(device: DemoDevice, connection: string, to: string, timeoutMs = 15_000): Promise<ProxyMigration> {
  const { ui, daemon } = device.agent;
  const res = await fetch(`${device.ui}/api/move`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ui!.secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ connection, to }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { migration?: string; error?: { code: string; message: string } };
  if (!res.ok || !body.migration) throw new TsmpError(body.error?.code ?? 'ERR_MOVE', `the ${device.name}'s agent refused the move: ${body.error?.message ?? res.status}`);
  return daemon.control!.follow(body.migration, () => undefined, { intervalMs: 25, timeoutMs });
}

/**
 * The target agent's own record of an incoming migration (push received, attached by ticket,
 * handler finished), once it reached `until` (or failed).
 */
export async function incomingRecord(device: DemoDevice, migration: string, until: 'attached' | 'handled', timeoutMs = 10_000): Promise<MigrationRecord> {
  const find = () => device.agent.daemon.state.migrations.find((m) => m.id === migration && m.direction === 'incoming');
  const reached = () => {
    const r = find();
    return r !== undefined && (r.state === 'failed' || r.phases[until] !== undefined);
  };
  await waitFor(`the ${device.name}'s agent: migration ${migration} ${until}`, reached, timeoutMs);
  return find()!;
}
