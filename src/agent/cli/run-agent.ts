import { parseHostPort, type HostPort } from '../../common/host-port.js';
import { createLogger } from '../../common/logger.js';
import { AgentDaemon } from '../daemon/agent-daemon.js';
import { resolveCredentials } from '../state/credentials.js';
import { HomeDir } from '../state/home-dir.js';
import { UiServer } from '../ui/ui-server.js';
import { controlAddress } from './cli-context.js';
import type { MigrationAwareApps } from '../app-api.js';

export interface RunAgentOptions {
  home?: string;
  nameserver?: string;
  proxy?: string;
  proxyControl?: string;
  device?: string;
  token?: string;
  socks?: string;
  ui?: string;
  coa?: string;
  lan?: boolean;
  json?: boolean;
}

export interface RunningAgent {
  daemon: AgentDaemon;
  ui: UiServer | undefined;
  lan: { stop(): Promise<void> } | undefined;
  stop(): Promise<void>;
}

/**
 * Starts everything `tsmp agent` runs: the daemon, the local SOCKS endpoint, the dashboard and
 * the LAN advertisement. Credentials given on the command line are saved to the home (0600).
 */
export async function startAgent(o: RunAgentOptions, extras: { apps?: MigrationAwareApps; startLan?: (daemon: AgentDaemon) => Promise<{ stop(): Promise<void> }> } = {}): Promise<RunningAgent> {
  const home = new HomeDir(o.home).ensure();
  const credentials = resolveCredentials(home, {
    ...(o.device ? { did: o.device } : {}),
    ...(o.token ?? process.env.TSMP_TOKEN ? { token: o.token ?? process.env.TSMP_TOKEN } : {}),
    ...(o.nameserver ?? process.env.TSMP_NAMESERVER ? { nameserver: o.nameserver ?? process.env.TSMP_NAMESERVER } : {}),
    ...(o.proxy ? { proxy: o.proxy } : {}),
    ...(o.proxyControl ? { proxyControl: o.proxyControl } : {}),
  });
  const logger = createLogger('agent');
  const proxy: HostPort | undefined = credentials.proxy ? parseHostPort(credentials.proxy) : undefined;
  const proxyControl = controlAddress(credentials);
  const daemon = new AgentDaemon({
    home,
    credentials,
    ...(proxy ? { proxy } : {}),
    ...(proxyControl ? { proxyControl } : {}),
    ...(o.socks ? { socks: parseHostPort(o.socks) } : {}),
    ...(o.coa ? { coa: o.coa } : {}),
    ...(extras.apps ? { apps: extras.apps } : {}),
    logger,
  });
  await daemon.start();
  let ui: UiServer | undefined;
  try {
    if (o.ui) {
      ui = new UiServer(daemon, { ...parseHostPort(o.ui), logger });
      await ui.listen();
      daemon.setUi({ url: ui.url.split('/?')[0]!, secret: ui.secret });
    }
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  const lan = o.lan && extras.startLan ? await extras.startLan(daemon) : undefined;
  return {
    daemon,
    ui,
    lan,
    async stop() {
      await lan?.stop();
      await ui?.close();
      await daemon.stop();
    },
  };
}
