import { z } from 'zod';
import { formatHostPort, type HostPort } from '../../common/host-port.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import { NameServerClient } from '../../names/client/name-server-client.js';
import type { PushSubscriber } from '../../names/client/push-subscriber.js';
import { NamespaceReplica, type ReplicaSnapshot } from '../../names/sync/namespace-replica.js';
import { MigrationAwareApps } from '../app-api.js';
import type { HandlerDeps } from '../handlers/handler-choice.js';
import { LocalSocksEndpoint } from '../socks-endpoint/local-socks-endpoint.js';
import { PickupBoard } from '../socks-endpoint/pickup-board.js';
import { loadConfig } from '../state/config-file.js';
import type { Credentials } from '../state/credentials.js';
import type { HomeDir } from '../state/home-dir.js';
import { saveRuntime } from '../state/runtime-file.js';
import { AddressWatcher } from './address-watcher.js';
import { AgentState } from './agent-state.js';
import { HeartbeatLoop } from './heartbeat-loop.js';
import { MigrationReceiver } from './migration-receiver.js';
import { moveConnection, type MoveOptions } from './migration-sender.js';
import { ProxyControlClient, type ProxyMigration } from './proxy-control-client.js';

const REPLICA_FILE = 'namespace.json';
/** The replica checks its own snapshot; the file only has to be a JSON object. */
const replicaFileSchema = z.custom<ReplicaSnapshot>((v) => typeof v === 'object' && v !== null && !Array.isArray(v));

export interface AgentDaemonOptions {
  home: HomeDir;
  credentials: Credentials;
  /** The proxy's SOCKS5 front and control API. */
  proxy?: HostPort;
  proxyControl?: HostPort;
  /** `--socks`: the local no-auth endpoint. */
  socks?: HostPort;
  /** `--coa`: a fixed care-of address instead of the watched one. */
  coa?: string;
  /** How often the proxy's connection list is read, for `ls` and throughput. @default 1000 */
  pollIntervalMs?: number;
  /** How often the interfaces are read. @default 1000 */
  addressIntervalMs?: number;
  /** Push channel backoff bounds. */
  pushBackoffMs?: { min: number; max: number };
  apps?: MigrationAwareApps;
  logger?: Logger;
}

/**
 * The device agent (SMPA, paper IV.A and V): registers and heartbeats, reports care-of address
 * changes at once, keeps the push channel open, receives Migration-To-Requests and hands resumed
 * streams to handlers, serves the local SOCKS endpoint, and moves connections on request.
 */
export class AgentDaemon {
  readonly state: AgentState;
  readonly apps: MigrationAwareApps;
  readonly home: HomeDir;
  readonly control: ProxyControlClient | undefined;
  readonly #o: AgentDaemonOptions;
  readonly #logger: Logger;
  readonly #pickup = new PickupBoard();
  readonly #receiver: MigrationReceiver;
  readonly #watcher: AddressWatcher;
  #ns: NameServerClient | undefined;
  #push: PushSubscriber | undefined;
  #heartbeat: HeartbeatLoop | undefined;
  #socks: LocalSocksEndpoint | undefined;
  #socksAddress: HostPort | undefined;
  #poll: NodeJS.Timeout | undefined;
  #uiAddress: { url: string; secret: string } | undefined;

  constructor(options: AgentDaemonOptions) {
    this.#o = options;
    this.home = options.home;
    this.#logger = options.logger ?? silentLogger;
    this.apps = options.apps ?? new MigrationAwareApps();
    this.state = new AgentState(options.credentials.did);
    const { did, token } = options.credentials;
    this.control = options.proxyControl ? new ProxyControlClient({ control: formatHostPort(options.proxyControl), did, token }) : undefined;
    this.#watcher = new AddressWatcher({ ...(options.coa ? { fixed: options.coa } : {}), intervalMs: options.addressIntervalMs ?? 1000 });
    this.#receiver = new MigrationReceiver({
      credentials: () => ({ did, token }),
      proxy: () => this.#o.proxy,
      handlerDeps: () => this.handlerDeps(),
      state: this.state,
      logger: this.#logger,
    });
  }

  get did(): string {
    return this.#o.credentials.did;
  }

  get socksAddress(): HostPort | undefined {
    return this.#socksAddress;
  }

  /** Re-read on every migration, so editing config.json needs no restart. */
  handlerDeps(): HandlerDeps {
    return { config: loadConfig(this.home), apps: this.apps, pickup: this.#pickup, receivedDir: this.home.subdir('received') };
  }

  async start(): Promise<void> {
    this.home.ensure();
    const { credentials } = this.#o;
    if (this.#o.socks) {
      this.#socks = new LocalSocksEndpoint({
        ...this.#o.socks,
        proxy: () => this.#o.proxy,
        credentials: () => ({ did: credentials.did, token: credentials.token }),
        pickup: this.#pickup,
        logger: this.#logger,
      });
      this.#socksAddress = await this.#socks.listen();
    }
    if (credentials.nameserver) this.#startNameServer(credentials.nameserver);
    this.#watcher.on('change', (coa, previous) => {
      this.#logger.info({ coa, previous }, 'care-of address changed');
      this.state.setStatus({ coa });
      void this.#heartbeat?.beatNow();
    });
    this.#watcher.start();
    this.state.setStatus({ coa: this.#watcher.coa });
    if (this.control) {
      await this.refreshConnections();
      this.#poll = setInterval(() => void this.refreshConnections(), this.#o.pollIntervalMs ?? 1000);
      this.#poll.unref();
    }
    this.writeRuntime();
  }

  /** Set by the dashboard once it listens, so that the CLI can find it. */
  setUi(ui: { url: string; secret: string } | undefined): void {
    this.#uiAddress = ui;
    this.writeRuntime();
  }

  writeRuntime(): void {
    saveRuntime(this.home, {
      pid: process.pid,
      startedAt: this.state.status.startedAt,
      did: this.did,
      ui: this.#uiAddress?.url ?? null,
      uiSecret: this.#uiAddress?.secret ?? null,
      socks: this.#socksAddress ? formatHostPort(this.#socksAddress) : null,
    });
  }

  #startNameServer(url: string): void {
    const { did, token } = this.#o.credentials;
    this.#ns = new NameServerClient({ url, auth: { did, token } });
    // The user's namespace group, replicated on each device (DESIGN.md "Names").
    const replica = new NamespaceReplica(did, this.home.readJson(REPLICA_FILE, replicaFileSchema, { secret: true }));
    this.#heartbeat = new HeartbeatLoop({
      ns: this.#ns,
      state: this.state,
      replica,
      coa: () => this.#watcher.coa,
      control: () => null,
      logger: this.#logger,
      onReplicaChanged: () => this.home.writeJson(REPLICA_FILE, replica.toJSON(), { secret: true }),
    });
    this.#heartbeat.start();
    const backoff = this.#o.pushBackoffMs;
    this.#push = this.#ns.openPush(backoff ? { minBackoffMs: backoff.min, maxBackoffMs: backoff.max } : {});
    this.#push.on('open', () => this.state.setStatus({ push: 'open' }));
    this.#push.on('close', () => this.state.setStatus({ push: 'closed' }));
    this.#push.on('error', (err) => this.#logger.debug({ err: err.message }, 'push channel error'));
    this.#push.on('message', (m) => {
      if (m.type === 'migration') void this.#receiver.receive(m);
      else if (m.type === 'group-changed') void this.#heartbeat?.beatNow();
      else if (m.type === 'revoked') this.#logger.error({ did: this.did }, 'this device was revoked at the name server');
      else this.#logger.debug({ type: m.type }, 'push message');
    });
  }

  /** Resolves once the push channel is open (for tests and `tsmp agent` start-up). */
  async pushReady(timeoutMs = 10_000): Promise<void> {
    await this.#push?.ready(timeoutMs);
  }

  /** Sends a heartbeat now and waits for it. */
  async heartbeatNow(): Promise<void> {
    await this.#heartbeat?.beatNow();
  }

  /** Handles a Migration-To-Request that arrived some other way than the push channel. */
  receiveMigration(message: unknown): Promise<void> {
    return this.#receiver.receive(message);
  }

  async refreshConnections(): Promise<void> {
    if (!this.control) return;
    try {
      this.state.setConnections(await this.control.listConnections());
      this.state.setStatus({ proxy: 'ok' });
    } catch (err) {
      this.#logger.debug({ err: (err as Error).message }, 'proxy control unreachable');
      this.state.setStatus({ proxy: 'unreachable' });
    }
  }

  async move(connection: string, to: string, options: MoveOptions = {}): Promise<ProxyMigration> {
    if (!this.control) throw new Error('no proxy control API configured (--proxy-control)');
    const result = await moveConnection({ control: this.control, apps: this.apps, state: this.state }, connection, to, options);
    void this.refreshConnections();
    return result;
  }

  async stop(): Promise<void> {
    clearInterval(this.#poll);
    this.#watcher.stop();
    this.#heartbeat?.stop();
    this.#push?.close();
    this.#ns?.close();
    await this.#socks?.close();
  }
}
