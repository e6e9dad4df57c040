import type { ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { silentLogger, type Logger } from '../common/logger.js';
import { linkAddresses, type LinkAddresses } from './addressing.js';
import { DelayForwarder, type DelayForwarderOptions, type ForwarderStats } from './delay-forwarder.js';
import { NetemConfigError } from './errors.js';
import { resolveLink, tbfArgs, type LinkSpec, type ResolvedLink } from './link-spec.js';
import { spawnInNamespace, type NsSpawnOptions } from './ns-process.js';
import { runCommand, type RunResult, type RunOptions } from './run-command.js';
import { checkHostName, namespaceName, newRunNames, routerNamespace, tunName, type RunNames } from './run-names.js';
import { deleteNamespacesSync, registerTeardown, runTeardown } from './teardown.js';
import { openTun } from './tun-device.js';

export interface HostSpec {
  /** Lower-case letters and digits, up to 12 characters; part of namespace and interface names. */
  name: string;
  link?: LinkSpec;
}

export interface TopologySpec {
  hosts: HostSpec[];
  forwarder?: DelayForwarderOptions;
}

export interface Host {
  name: string;
  /** The network namespace, for `ip netns exec`. */
  ns: string;
  /** The host's address. */
  address: string;
  addresses: LinkAddresses;
  link: ResolvedLink;
  /** The router-side end of the host's veth pair. */
  routerDev: string;
}

/** Routing table of the router that sends everything into the delay forwarder's TUN. */
const TUN_TABLE = '100';

/**
 * A star network: each host is a network namespace with one veth (`eth0`) to a router
 * namespace. Rates are TBF qdiscs on both ends of each veth; delay and loss are applied by a
 * user-space forwarder (`DelayForwarder`) on a TUN in the router, because the kernel has no netem.
 * Policy routing sends every packet arriving from a host veth into the TUN; packets the forwarder
 * writes back arrive on the TUN and are routed by the main table to the destination's veth.
 */
export class Topology {
  readonly hosts = new Map<string, Host>();
  readonly router: string;
  private forwarder: DelayForwarder | null = null;
  private readonly children = new Set<ChildProcess>();
  private downed = false;

  private constructor(readonly run: RunNames, private readonly log: Logger) {
    this.router = routerNamespace(run);
  }

  /** Builds the network; on any failure, removes what was built and rethrows. */
  static async create(spec: TopologySpec, log: Logger = silentLogger, run: RunNames = newRunNames()): Promise<Topology> {
    const topo = new Topology(run, log);
    registerTeardown(run.prefix, () => topo.teardownSync());
    try {
      await topo.build(spec);
    } catch (err) {
      topo.down();
      throw err;
    }
    return topo;
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new NetemConfigError(`no host "${name}" in this topology`);
    return h;
  }

  /** Runs a command inside a host's namespace and waits for it. */
  exec(host: string, file: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return runCommand('ip', ['netns', 'exec', this.host(host).ns, file, ...args], options);
  }

  /** Starts a long-running process inside a host's namespace; it is killed by `down()`. */
  spawn(host: string, file: string, args: readonly string[], options?: NsSpawnOptions): ChildProcess {
    const child = spawnInNamespace(this.host(host).ns, file, args, options);
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  forwarderStats(): ForwarderStats | null {
    return this.forwarder ? structuredClone(this.forwarder.stats) : null;
  }

  /** Tears everything down. Idempotent and synchronous, so it also works from exit handlers. */
  down(): void {
    runTeardown(this.run.prefix);
    this.teardownSync();
  }

  private teardownSync(): void {
    if (this.downed) return;
    this.downed = true;
    this.forwarder?.stop();
    for (const child of this.children) child.kill('SIGKILL');
    deleteNamespacesSync([...[...this.hosts.values()].map((h) => h.ns), this.router]);
  }

  private async build(spec: TopologySpec): Promise<void> {
    if (spec.hosts.length === 0) throw new NetemConfigError('a topology needs at least one host');
    spec.hosts.forEach((h, i) => {
      checkHostName(h.name);
      if (this.hosts.has(h.name)) throw new NetemConfigError(`host "${h.name}" listed twice`);
      this.hosts.set(h.name, {
        name: h.name, ns: namespaceName(this.run, h.name), addresses: linkAddresses(i),
        address: linkAddresses(i).host, link: resolveLink(h.link), routerDev: `r-${h.name}`,
      });
    });
    const hosts = [...this.hosts.values()];
    const all = [this.router, ...hosts.map((h) => h.ns)];
    await runCommand('ip', ['-batch', '-'], { input: all.map((ns) => `netns add ${ns}\n`).join('') });
    // IPv6 off: its neighbour discovery would only add noise to packet counts. rp_filter off:
    // packets the forwarder writes back arrive on the TUN, not on the veth their source is behind.
    await Promise.all(all.map((ns) => runCommand('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w',
      'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1',
      'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0',
      ...(ns === this.router ? ['net.ipv4.ip_forward=1'] : [])])));
    await runCommand('ip', ['-batch', '-'], {
      input: hosts.map((h) => `link add eth0 netns ${h.ns} type veth peer name ${h.routerDev} netns ${this.router}\n`).join(''),
    });
    const routerCmds = ['link set lo up'];
    for (const h of hosts) {
      routerCmds.push(`addr add ${h.addresses.router}/${h.addresses.prefixLength} dev ${h.routerDev}`, `link set ${h.routerDev} up`);
    }
    await runCommand('ip', ['-n', this.router, '-batch', '-'], { input: routerCmds.join('\n') + '\n' });
    await Promise.all(hosts.map((h) => runCommand('ip', ['-n', h.ns, '-batch', '-'], {
      input: ['link set lo up', `addr add ${h.address}/${h.addresses.prefixLength} dev eth0`, 'link set eth0 up',
        `route add default via ${h.addresses.router}`].join('\n') + '\n',
    })));
    await this.shape(hosts);
    if (hosts.some((h) => h.link.upDelayMs + h.link.downDelayMs + h.link.upLoss + h.link.downLoss > 0)) {
      await this.startForwarder(hosts, spec.forwarder);
    }
    this.log.info({ prefix: this.run.prefix, hosts: hosts.map((h) => [h.name, h.address]) }, 'emulated network up');
  }

  private async shape(hosts: Host[]): Promise<void> {
    const routerTc: string[] = [];
    const jobs: Promise<unknown>[] = [];
    for (const h of hosts) {
      if (h.link.upRateKbit !== null) {
        jobs.push(runCommand('tc', ['-n', h.ns, ...tbfArgs('eth0', h.link.upRateKbit, h.link.queueBytes)]));
      }
      if (h.link.downRateKbit !== null) routerTc.push(tbfArgs(h.routerDev, h.link.downRateKbit, h.link.queueBytes).join(' '));
    }
    if (routerTc.length > 0) jobs.push(runCommand('tc', ['-n', this.router, '-batch', '-'], { input: routerTc.join('\n') + '\n' }));
    await Promise.all(jobs);
  }

  private async startForwarder(hosts: Host[], options?: DelayForwarderOptions): Promise<void> {
    const tun = tunName(this.run);
    // The TUN is created in our own namespace (the process's), then moved into the router; the
    // descriptor keeps working across the move. It is not persistent, so it dies with the fd.
    const fd = openTun(tun);
    const links = hosts.map((h) => ({
      subnet: Number(h.address.split('.').slice(0, 3).reduce((a, o) => a * 256 + Number(o), 0)),
      upDelayMs: h.link.upDelayMs, downDelayMs: h.link.downDelayMs, upLoss: h.link.upLoss, downLoss: h.link.downLoss,
    }));
    try {
      this.forwarder = new DelayForwarder(fd, links, options, this.log);
    } catch (err) {
      // Not yet owned by a worker: close it here, or the TUN would outlive the failed build.
      closeSync(fd);
      throw err;
    }
    await runCommand('ip', ['link', 'set', tun, 'netns', this.router]);
    await runCommand('ip', ['netns', 'exec', this.router, 'sysctl', '-q', '-w', `net.ipv4.conf.${tun}.rp_filter=0`]);
    await runCommand('ip', ['-n', this.router, '-batch', '-'], {
      input: [`link set ${tun} up`, `route add default dev ${tun} table ${TUN_TABLE}`,
        ...bypassRules(hosts),
        ...hosts.map((h) => `rule add iif ${h.routerDev} lookup ${TUN_TABLE} pref 100`)].join('\n') + '\n',
    });
  }
}

/**
 * Paths that need neither delay nor loss (source's up and destination's down are all zero) are
 * routed straight by the main table, ahead of the rule that sends everything into the TUN: the
 * user-space forwarder then carries only packets it must hold. Thousands of background
 * connections on undelayed links would otherwise saturate it (about 20,000 packets a second on
 * one core).
 */
export function bypassRules(hosts: readonly { routerDev: string; address: string; addresses: { prefixLength: number }; link: { upDelayMs: number; downDelayMs: number; upLoss: number; downLoss: number } }[]): string[] {
  const rules: string[] = [];
  for (const from of hosts) {
    if (from.link.upDelayMs > 0 || from.link.upLoss > 0) continue;
    for (const to of hosts) {
      if (to === from || to.link.downDelayMs > 0 || to.link.downLoss > 0) continue;
      rules.push(`rule add iif ${from.routerDev} to ${to.address}/32 lookup main pref 90`);
    }
  }
  return rules;
}
