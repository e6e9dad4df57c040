import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/common/logger.js';
import { NameServer } from '../../../src/names/name-server.js';
import { NameServerClient } from '../../../src/names/client/name-server-client.js';
import { NameServerAuthenticator } from '../../../src/proxy/auth/nameserver-authenticator.js';
import { Proxy } from '../../../src/proxy/proxy.js';
import { migrationPushListener } from '../../../src/proxy/migration/migration-push.js';
import { formatHostPort, type HostPort } from '../../../src/common/host-port.js';
import { AgentDaemon } from '../../../src/agent/daemon/agent-daemon.js';
import { HomeDir } from '../../../src/agent/state/home-dir.js';
import { saveCredentials } from '../../../src/agent/state/credentials.js';
import type { MigrationAwareApps } from '../../../src/agent/app-api.js';

export const SERVICE_KEY = 'test-service-key-0123456789';

export interface Stack {
  dir: string;
  ns: NameServer;
  proxy: Proxy;
  proxyAddr: { listen: HostPort; control: HostPort };
  uid: string;
  devices: Record<string, { did: string; token: string }>;
  agent(name: string, options?: { socks?: boolean; apps?: MigrationAwareApps; home?: string }): Promise<AgentDaemon>;
  /** Stops the name server; `start` brings it back on the same port and database. */
  stopNameServer(): Promise<void>;
  startNameServer(): Promise<void>;
  /** Closes the proxy and starts a new one on the same ports (its connections are lost). */
  restartProxy(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A name server, a proxy authenticating against it, and a user with devices. The proxy's
 * Migration-To-Request goes through the name server's push channel, as docs/CONTRACTS.md says.
 */
export async function startStack(deviceNames: string[], options: { migrationTimeoutMs?: number } = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'tsmp-agent-stack-'));
  const nsOptions = { db: join(dir, 'names.db'), settings: { serviceKey: SERVICE_KEY, heartbeatIntervalMs: 1000 }, log: silentLogger };
  let ns = await NameServer.start({ ...nsOptions, port: 0 });
  const nsPort = Number(new URL(ns.url).port);
  const uid = 'bob@example.org';
  const admin = new NameServerClient({ url: ns.url });
  await admin.registerUser(uid, 'correct horse battery');
  const user = admin.withAuth({ uid, password: 'correct horse battery' });
  const devices: Stack['devices'] = {};
  for (const name of deviceNames) devices[name] = await user.addDevice(uid, name);
  const service = new NameServerClient({ url: ns.url, auth: { serviceKey: SERVICE_KEY } });
  const makeProxy = (listen: HostPort, control: HostPort) =>
    new Proxy(
      { listen, control, migrationTimeoutMs: options.migrationTimeoutMs ?? 5000 },
      { authenticator: new NameServerAuthenticator({ url: ns.url, serviceKey: SERVICE_KEY }), logger: silentLogger },
    );
  let proxy = makeProxy({ host: '127.0.0.1', port: 0 }, { host: '127.0.0.1', port: 0 });
  const started = await proxy.start();
  const proxyAddr = { listen: started.listen, control: started.control! };
  // The proxy's own Migration-To-Request, through the name server's push channel.
  const wire = (p: Proxy) => p.migrations.listeners.push(migrationPushListener(service, () => proxyAddr.listen, silentLogger));
  wire(proxy);
  const agents: AgentDaemon[] = [];
  return {
    dir,
    get ns() {
      return ns;
    },
    get proxy() {
      return proxy;
    },
    proxyAddr,
    uid,
    devices,
    async agent(name, o = {}) {
      const home = new HomeDir(o.home ?? join(dir, `home-${name}`)).ensure();
      const credentials = { ...devices[name]!, nameserver: ns.url, proxy: formatHostPort(proxyAddr.listen), proxyControl: formatHostPort(proxyAddr.control) };
      saveCredentials(home, credentials);
      const agent = new AgentDaemon({
        home,
        credentials,
        proxy: proxyAddr.listen,
        proxyControl: proxyAddr.control,
        ...(o.socks ? { socks: { host: '127.0.0.1', port: 0 } } : {}),
        ...(o.apps ? { apps: o.apps } : {}),
        coa: '198.18.0.1',
        pollIntervalMs: 200,
        pushBackoffMs: { min: 50, max: 500 },
      });
      await agent.start();
      await agent.pushReady(5000);
      agents.push(agent);
      return agent;
    },
    async stopNameServer() {
      await ns.close();
    },
    async startNameServer() {
      ns = await NameServer.start({ ...nsOptions, port: nsPort });
    },
    async restartProxy() {
      await proxy.close();
      proxy = makeProxy(proxyAddr.listen, proxyAddr.control);
      await proxy.start();
      wire(proxy);
    },
    async close() {
      for (const a of agents) await a.stop().catch(() => undefined);
      await proxy.close().catch(() => undefined);
      service.close();
      admin.close();
      await ns.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
