import { formatHostPort, parseHostPort, type HostPort } from '../../common/host-port.js';
import { AgentStateError } from '../errors.js';
import { ProxyControlClient } from '../daemon/proxy-control-client.js';
import { CREDENTIALS_FILE, loadCredentials, type Credentials } from '../state/credentials.js';
import { HomeDir } from '../state/home-dir.js';

export interface HomeCliOptions {
  home?: string;
  json?: boolean;
}

/** The proxy's control API: as stored, else the front's port + 1 (the proxy's own defaults, 1080/1081). */
export function controlAddress(credentials: Pick<Credentials, 'proxy' | 'proxyControl'>): HostPort | undefined {
  if (credentials.proxyControl) return parseHostPort(credentials.proxyControl);
  if (!credentials.proxy) return undefined;
  const front = parseHostPort(credentials.proxy);
  return { host: front.host, port: front.port + 1 };
}

/** What a one-shot command (`ls`, `migrate`, `devices`) needs: the home and the device's credentials. */
export function commandContext(opts: HomeCliOptions): { home: HomeDir; credentials: Credentials } {
  const home = new HomeDir(opts.home);
  const credentials = loadCredentials(home);
  if (!credentials) {
    throw new AgentStateError('ERR_NO_CREDENTIALS', `no device credentials in ${home.file(CREDENTIALS_FILE)}; run "tsmp device register NAME --user UID" first`);
  }
  return { home, credentials };
}

export function controlClient(credentials: Credentials): ProxyControlClient {
  const control = controlAddress(credentials);
  if (!control) throw new AgentStateError('ERR_NO_PROXY', 'no proxy known; run "tsmp agent --proxy HOST:PORT" once, or pass --proxy-control');
  return new ProxyControlClient({ control: formatHostPort(control), did: credentials.did, token: credentials.token });
}
