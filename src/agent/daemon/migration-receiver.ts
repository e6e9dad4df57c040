import { isIP } from 'node:net';
import { z } from 'zod';
import { parseHostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/logger.js';
import { parseDid } from '../../proxy/auth/device-authenticator.js';
import { readEnvelope, type JsonValue } from '../app-api.js';
import { chooseHandlerSpec, createHandler, type HandlerDeps } from '../handlers/handler-choice.js';
import type { ResumedStream } from '../handlers/handler-types.js';
import { attachByTicket } from '../proxy-client/connect-via-proxy.js';
import type { AgentState } from './agent-state.js';

/** Migration-To-Request as the proxy pushes it (docs/CONTRACTS.md, "Proxy ↔ name server"). */
export const migrationMessageSchema = z.object({
  type: z.literal('migration'),
  migration: z.string().min(1),
  connection: z.string().min(1),
  ticket: z.string().min(1),
  proxy: z.string().optional(),
  destination: z.string(),
  snapshot: z.unknown().optional(),
  /** The name server adds who pushed (for the proxy: "service"), which is not the old device. */
  from: z.string().optional(),
  /** The device the connection leaves, when the proxy says (not in CONTRACTS.md yet). */
  fromDevice: z.string().optional(),
});
export type MigrationMessage = z.infer<typeof migrationMessageSchema>;

export interface MigrationReceiverOptions {
  credentials: () => { did: string; token: string };
  /** The configured proxy front, used when the message names none or an unspecified address. */
  proxy: () => { host: string; port: number } | undefined;
  handlerDeps: () => HandlerDeps;
  state: AgentState;
  logger: Logger;
  /** Bound on the SOCKS5 attach by ticket. @default 10000 */
  attachTimeoutMs?: number;
}

/**
 * The target side of a migration (paper IV.D, Migration-To-Request): attach to the proxy with the
 * ticket, then give the resumed stream to the handler the user chose. A failed attach leaves the
 * proxy's migration timer to roll back to the old device (DESIGN.md invariant 4).
 */
export class MigrationReceiver {
  readonly #o: MigrationReceiverOptions;
  readonly #active = new Set<string>();

  constructor(options: MigrationReceiverOptions) {
    this.#o = options;
  }

  get active(): number {
    return this.#active.size;
  }

  async receive(raw: unknown): Promise<void> {
    const parsed = migrationMessageSchema.safeParse(raw);
    const { state, logger } = this.#o;
    if (!parsed.success) {
      logger.warn({ issue: parsed.error.issues[0]?.message }, 'ignoring malformed migration request');
      return;
    }
    const m = parsed.data;
    if (this.#active.has(m.migration)) return; // the push channel may redeliver after a reconnect
    this.#active.add(m.migration);
    const envelope = readEnvelope(m.snapshot);
    const oldDevice = [m.fromDevice, m.from].find((d) => d !== undefined && parseDid(d) !== null);
    const base = { id: m.migration, direction: 'incoming' as const, connection: m.connection, destination: m.destination, from: oldDevice ?? null, to: this.#o.credentials().did };
    state.recordMigration({ ...base, state: 'receiving', phases: { received: Date.now() } });
    try {
      const proxy = this.#proxyFor(m.proxy);
      if (!proxy) throw new Error('no proxy address: the request names none and --proxy is not set');
      const { did, token } = this.#o.credentials();
      const tunnel = await attachByTicket(m.ticket, { proxy, did, token, timeoutMs: this.#o.attachTimeoutMs ?? 10_000 });
      state.recordMigration({ ...base, state: 'attaching', phases: { attached: Date.now() } });
      const resumed: ResumedStream = {
        stream: tunnel.socket,
        migration: m.migration,
        connection: m.connection,
        destination: m.destination,
        ...(oldDevice ? { from: oldDevice } : {}),
        ...(envelope ? (envelope.app ? { app: envelope.app } : {}) : {}),
        ...(envelope ? (envelope.state !== undefined ? { snapshot: envelope.state } : {}) : m.snapshot !== undefined ? { snapshot: m.snapshot as JsonValue } : {}),
      };
      const deps = this.#o.handlerDeps();
      const spec = chooseHandlerSpec(resumed, envelope?.handler, deps);
      let handler;
      try {
        handler = createHandler(spec, resumed, deps);
      } catch (err) {
        tunnel.socket.destroy();
        throw err;
      }
      state.recordMigration({ ...base, state: 'attaching', handler: handler.spec, phases: {} });
      logger.info({ migration: m.migration, handler: handler.spec }, 'resumed stream handed to handler');
      const outcome = await handler.handle(resumed, { logger });
      state.recordMigration({ ...base, state: 'handled', handler: handler.spec, outcome, phases: { handled: Date.now() } });
    } catch (err) {
      logger.warn({ migration: m.migration, err: (err as Error).message }, 'incoming migration failed');
      state.recordMigration({ ...base, state: 'failed', error: (err as Error).message, phases: { failed: Date.now() } });
    } finally {
      this.#active.delete(m.migration);
    }
  }

  #proxyFor(fromMessage: string | undefined): { host: string; port: number } | undefined {
    const configured = this.#o.proxy();
    if (!fromMessage) return configured;
    try {
      const hp = parseHostPort(fromMessage);
      const unspecified = hp.host === '0.0.0.0' || hp.host === '::' || (isIP(hp.host) === 0 && hp.host === '');
      return unspecified ? (configured ?? { host: '127.0.0.1', port: hp.port }) : hp;
    } catch {
      return configured;
    }
  }
}
