import type { HostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/logger.js';
import { migrationPushListener } from '../migration/migration-push.js';
import type { Proxy } from '../proxy.js';
import { HolderWatch } from '../registry/holder-watch.js';
import type { DeviceAuthenticator } from './device-authenticator.js';
import { NameServerAuthenticator } from './nameserver-authenticator.js';

/**
 * With a name server (and its service key): each Migration-To-Request goes to the target's agent
 * over its push channel (paper IV.B), and the proxy follows where the devices that hold its
 * connections are (paper V.B.4). A no-op for any other authenticator.
 */
export function wireNameServer(proxy: Proxy, authenticator: DeviceAuthenticator, listen: HostPort, logger: Logger): void {
  if (!(authenticator instanceof NameServerAuthenticator) || !authenticator.hasServiceKey) return;
  proxy.migrations.listeners.push(migrationPushListener(authenticator.client, () => listen, logger));
  let watch: HolderWatch | undefined;
  const feed = authenticator.client.watchDevices([], (ev) => watch?.onEvent(ev));
  watch = new HolderWatch(proxy.connections, feed, logger);
  proxy.connections.presenceOf = (did) => watch?.presence.get(did);
  proxy.onClose(() => watch?.close());
}
