import type { Logger } from '../../common/logger.js';
import type { NameServerClient } from '../../names/client/name-server-client.js';
import type { NamespaceReplica } from '../../names/sync/namespace-replica.js';
import { parseDid } from '../../proxy/auth/device-authenticator.js';
import type { AgentState, DeviceView } from './agent-state.js';

export interface HeartbeatLoopOptions {
  ns: NameServerClient;
  state: AgentState;
  replica: NamespaceReplica;
  coa: () => string | null;
  control: () => string | null;
  logger: Logger;
  /** Called after a sync changed the replica, to persist it. */
  onReplicaChanged?: () => void;
  /** Until the server says otherwise. @default 15000 */
  intervalMs?: number;
  /** First retry delay after a failure; doubles up to the interval. @default 500 */
  minRetryMs?: number;
}

/**
 * Heartbeats (paper V.B.3): tell the name server the device is alive and where it is, learn the
 * user's other devices, and sync the namespace group when the server's modification time differs.
 * A failure is retried with backoff, so the agent survives a name server restart.
 */
export class HeartbeatLoop {
  readonly #o: HeartbeatLoopOptions;
  #intervalMs: number;
  #retryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  #again = false;

  constructor(options: HeartbeatLoopOptions) {
    this.#o = options;
    this.#intervalMs = options.intervalMs ?? 15_000;
    this.#retryMs = options.minRetryMs ?? 500;
  }

  start(): void {
    this.#stopped = false;
    void this.beatNow();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Sends a heartbeat now (e.g. on a new care-of address); coalesces with one in flight. */
  beatNow(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    clearTimeout(this.#timer);
    this.#running = this.#beat().finally(() => {
      this.#running = undefined;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        void this.beatNow();
      }
    });
    return this.#running;
  }

  async #beat(): Promise<void> {
    const { ns, state, replica, logger } = this.#o;
    let delay: number;
    try {
      const reply = await ns.heartbeat({ coa: this.#o.coa(), control: this.#o.control(), groupModified: replica.modified() });
      this.#intervalMs = reply.intervalMs;
      this.#retryMs = this.#o.minRetryMs ?? 500;
      const self = state.status.did;
      state.setDevices(
        reply.devices.map((d): DeviceView => ({
          did: d.did,
          name: parseDid(d.did)?.device ?? d.did,
          status: d.status,
          coa: d.coa,
          lastSeen: d.lastSeen,
          self: d.did === self,
        })),
      );
      state.setStatus({ nameserver: 'ok', lastHeartbeat: new Date().toISOString(), coa: this.#o.coa() });
      if (reply.mustSync || replica.hasPending()) {
        await ns.syncReplica(replica);
        this.#o.onReplicaChanged?.();
      }
      delay = this.#intervalMs;
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'heartbeat failed; retrying');
      state.setStatus({ nameserver: 'unreachable' });
      delay = this.#retryMs;
      this.#retryMs = Math.min(this.#retryMs * 2, this.#intervalMs);
    }
    if (!this.#stopped) {
      this.#timer = setTimeout(() => void this.beatNow(), delay);
      this.#timer.unref();
    }
  }
}
