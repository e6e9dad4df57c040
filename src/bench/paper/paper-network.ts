import type { HostSpec } from '../../netem/topology.js';
import type { LinkSpec } from '../../netem/link-spec.js';

/**
 * The paper's links (section VI), as one-way delays on each host's link to the router (the
 * proxy's own link has none, so a device's RTT to the proxy is its link's two delays):
 * - device ↔ proxy: RTT 38 ms (WLAN) or 740 ms (3G), 1 Mbit/s unless a sweep varies it;
 * - proxy ↔ server: 1 ms each way, 1 Gbit/s; proxy ↔ name server: 1 ms, 10 Gbit/s.
 * Background clients and their server sit on undelayed links of their own (other users: they do
 * not share Bob's bottleneck). The paper does not give their links; what they are for is load at
 * the proxy, which their delay does not change. Undelayed, their packets bypass the user-space
 * delay forwarder (Topology's bypass rules), which would otherwise saturate at a few thousand
 * connections and delay Bob's packets with them.
 */
export type Access = 'wlan' | '3g';

export const ACCESS_RTT_MS: Record<Access, number> = { wlan: 38, '3g': 740 };

export function deviceLink(access: Access, rateKbit = 1000): LinkSpec {
  return { delayMs: ACCESS_RTT_MS[access] / 2, rateKbit };
}

export const SERVER_LINK: LinkSpec = { delayMs: 1, rateKbit: 1_000_000 };
export const NAME_SERVER_LINK: LinkSpec = { delayMs: 1, rateKbit: 10_000_000 };
export const BACKGROUND_CLIENT_LINK: LinkSpec = { rateKbit: 100_000 };
export const BACKGROUND_SERVER_LINK: LinkSpec = { rateKbit: 1_000_000 };

export interface PaperNetwork {
  oldAccess: Access;
  newAccess: Access | null;
  rateKbit: number;
  background: number;
}

export function paperHosts(n: PaperNetwork): HostSpec[] {
  const hosts: HostSpec[] = [
    { name: 'alice', link: SERVER_LINK },
    { name: 'proxy' },
    { name: 'old', link: deviceLink(n.oldAccess, n.rateKbit) },
  ];
  if (n.newAccess) hosts.push({ name: 'new', link: deviceLink(n.newAccess, n.rateKbit) });
  if (n.background > 0) hosts.push({ name: 'bgc', link: BACKGROUND_CLIENT_LINK }, { name: 'bgs', link: BACKGROUND_SERVER_LINK });
  return hosts;
}
