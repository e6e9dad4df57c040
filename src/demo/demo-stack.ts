import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigrationAwareApps } from '../agent/app-api.js';
import { startAgent, type RunningAgent } from '../agent/cli/run-agent.js';
import { formatHostPort, type HostPort } from '../common/host-port.js';
import { silentLogger } from '../common/logger.js';
import { NameServerClient, type DeviceListing } from '../names/client/name-server-client.js';
import { NameServer } from '../names/name-server.js';
import { NameServerAuthenticator } from '../proxy/auth/nameserver-authenticator.js';
import { migrationPushListener } from '../proxy/migration/migration-push.js';
import { Proxy } from '../proxy/proxy.js';

export type DeviceName = 'phone' | 'pc';
export const DEVICE_NAMES: readonly DeviceName[] = ['phone', 'pc'];

/** Bound on each component's start-up step (push channel open, first heartbeat). */
const START_TIMEOUT_MS = 10_000;
/** The proxy rolls a migration back when the target has not attached within this. */
const MIGRATION_TIMEOUT_MS = 10_000;

/** One of Bob's devices: its agent, exactly as `tsmp agent` runs it, and its migration-aware apps. */
export interface DemoDevice {
  name: DeviceName;
  did: string;
  home: string;
  agent: RunningAgent;
  /** Exporters on the old device, importers on the new one (src/agent/app-api.ts). */
  apps: MigrationAwareApps;
  /** The agent's local SOCKS5 endpoint (no authentication), which the device's apps use. */
  socks: HostPort;
  /** The agent's dashboard, without its secret. */
  ui: string;
}

/**
 * The whole stack of the paper's Figure 3 on embedded defaults, in this process: a name server
 * (SMPS) on an SQLite file, a proxy (SMPP) that authenticates devices through it and pushes each
 * Migration-To-Request to the target's agent over its push channel, and an agent (SMPA) per
 * device, each with its own home. Everything listens on 127.0.0.1, ephemeral ports, and lives in
 * a scratch directory that `close` removes.
 */
export class DemoStack {
  readonly uid = 'bob@example.org';
  readonly dir = mkdtempSync(join(tmpdir(), 'tsmp-demo-'));
  readonly dbFile = join(this.dir, 'names.db');
  /** Shared by the name server and the proxy (docs/names.md, "Proxy → agent push"). */
  readonly #serviceKey = randomBytes(24).toString('hex');
  readonly #password = randomBytes(12).toString('hex');
  ns!: NameServer;
  proxy!: Proxy;
  proxyAddr!: { listen: HostPort; control: HostPort };
  readonly devices = {} as Record<DeviceName, DemoDevice>;
  #auth: NameServerAuthenticator | undefined;

  async start(): Promise<void> {
    this.ns = await NameServer.start({ db: this.dbFile, port: 0, settings: { serviceKey: this.#serviceKey }, log: silentLogger });
    const credentials = await this.#registerBob();

    // As `tsmp proxy --nameserver URL` with TSMP_SERVICE_KEY set (src/cli/commands/proxy.ts).
    this.#auth = new NameServerAuthenticator({ url: this.ns.url, serviceKey: this.#serviceKey });
    this.proxy = new Proxy(
      { listen: { host: '127.0.0.1', port: 0 }, control: { host: '127.0.0.1', port: 0 }, migrationTimeoutMs: MIGRATION_TIMEOUT_MS },
      { authenticator: this.#auth, logger: silentLogger },
    );
    const bound = await this.proxy.start();
    this.proxyAddr = { listen: bound.listen, control: bound.control! };
    // The Migration-To-Request (paper IV.B) reaches the target's agent through the name server's
    // push channel, since an agent behind NAT cannot be dialled (docs/CONTRACTS.md).
    this.proxy.migrations.listeners.push(migrationPushListener(this.#auth.client, () => this.proxyAddr.listen, silentLogger));

    const started = await Promise.allSettled(DEVICE_NAMES.map((name) => this.#startDevice(name, credentials[name])));
    started.forEach((r, i) => {
      if (r.status === 'fulfilled') this.devices[DEVICE_NAMES[i]!] = r.value;
    });
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Bob signs up and adds his phone and his PC through the name server's HTTP API (docs/names.md):
   * the phone with his password, the PC from the phone, with its token. Either may add devices;
   * the token costs one SHA-256 where the password costs a deliberately slow scrypt.
   */
  async #registerBob(): Promise<Record<DeviceName, { did: string; token: string }>> {
    const anyone = new NameServerClient({ url: this.ns.url });
    const clients = [anyone];
    try {
      await anyone.registerUser(this.uid, this.#password);
      const bob = anyone.withAuth({ uid: this.uid, password: this.#password });
      clients.push(bob);
      const phone = await bob.addDevice(this.uid, 'phone');
      const fromPhone = anyone.withAuth({ did: phone.did, token: phone.token });
      clients.push(fromPhone);
      return { phone, pc: await fromPhone.addDevice(this.uid, 'pc') };
    } finally {
      for (const c of clients) c.close();
    }
  }

  /** `tsmp agent --home DIR --nameserver URL --proxy HOST:PORT --device DID --token T --socks … --ui …`. */
  async #startDevice(name: DeviceName, credentials: { did: string; token: string }): Promise<DemoDevice> {
    const home = join(this.dir, `home-${name}`);
    const apps = new MigrationAwareApps();
    const agent = await startAgent(
      {
        home,
        nameserver: this.ns.url,
        proxy: formatHostPort(this.proxyAddr.listen),
        proxyControl: formatHostPort(this.proxyAddr.control),
        device: credentials.did,
        token: credentials.token,
        socks: '127.0.0.1:0',
        ui: '127.0.0.1:0',
        // Both devices share this machine's loopback; a fixed care-of address keeps the demo
        // independent of the host's interfaces.
        coa: '127.0.0.1',
      },
      { apps },
    );
    try {
      await agent.daemon.pushReady(START_TIMEOUT_MS);
      await agent.daemon.heartbeatNow();
    } catch (err) {
      await agent.stop();
      throw err;
    }
    return { name, did: credentials.did, home, agent, apps, socks: agent.daemon.socksAddress!, ui: agent.ui!.url.split('/?')[0]! };
  }

  /** Bob's devices as the name server resolves them (status from heartbeats, care-of address). */
  async listDevices(): Promise<DeviceListing[]> {
    return this.#auth!.client.listDevices(this.uid);
  }

  async close(): Promise<void> {
    for (const name of DEVICE_NAMES) await this.devices[name]?.agent.stop().catch(() => undefined);
    await this.proxy?.close().catch(() => undefined);
    await this.#auth?.close();
    await this.ns?.close().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
