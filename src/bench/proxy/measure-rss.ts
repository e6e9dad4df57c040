import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchChild } from './child-process.js';
import { startHaproxy } from './haproxy.js';
import type { JsonLinesClient } from './json-lines.js';
import { treeFds, treeRss } from './process-rss.js';
import type { Target } from './targets.js';
import { BENCH_DEVICES, BENCH_UID, startTsmpProxy } from './tsmp-proxy.js';

export interface RssFigure {
  connections: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** (after − before) / connections. */
  bytesPerConnection: number;
  /** File descriptors the relay spends per connection, measured during the warm-up. */
  fdsPerConnection: number;
  processes: number;
}

const WARMUP_CONNECTIONS = 200;
const SETTLE_MS = 1000;
/** Fds kept free under the limit: listeners, pipes, sockets of earlier connections still closing. */
const FD_MARGIN = 500;

interface Relay {
  child: BenchChild;
  target: Target;
}

/**
 * RSS per idle relayed connection: VmRSS of the relay's processes with `count` idle connections
 * open, minus VmRSS before, divided. The relay first carries a few connections so that its code
 * paths are loaded before the "before" reading; they also tell how many fds a connection costs
 * it, so that `count` is cut to what its fd limit allows (`limitedTo`).
 */
async function rssPerConnection(load: JsonLinesClient, relay: Relay, asked: number, nofile: number, timeoutMs: number): Promise<RssFigure> {
  const open = (n: number) =>
    load.call('openIdle', { target: relay.target, count: n, concurrency: 100, dialTimeoutMs: timeoutMs }, timeoutMs + n * 10);
  const release = () => load.call('releaseIdle', { timeoutMs }, 2 * timeoutMs);
  const pid = relay.child.pid;
  try {
    const fds0 = treeFds(pid);
    await open(WARMUP_CONNECTIONS);
    const fdsPerConnection = Math.max(1, Math.round((treeFds(pid) - fds0) / WARMUP_CONNECTIONS));
    await release();
    await sleep(SETTLE_MS);
    const count = Math.min(asked, Math.floor((nofile - treeFds(pid) - FD_MARGIN) / fdsPerConnection));
    const before = treeRss(pid);
    await open(count);
    await sleep(SETTLE_MS);
    const after = treeRss(pid);
    return {
      connections: count,
      rssBeforeBytes: before.bytes,
      rssAfterBytes: after.bytes,
      bytesPerConnection: Math.round((after.bytes - before.bytes) / count),
      fdsPerConnection,
      processes: after.processes,
    };
  } finally {
    await release();
  }
}

export interface RssResult {
  tsmp: RssFigure;
  haproxy: RssFigure;
  ratioToHaproxy: number;
  /** Set when the fd limit kept the figure below the connections asked for. */
  note?: string;
}

export async function measureRss(opts: {
  load: JsonLinesClient;
  dir: string;
  proxyArgs: string[];
  sourcePort: number;
  haproxyThreads: number;
  haproxyMaxconn: number;
  /** Idle connections asked for (the issue: 10,000). */
  connections: number;
  /** The fd limit of every child. */
  nofile: number;
  timeoutMs: number;
}): Promise<RssResult> {
  const proxy = await startTsmpProxy({ dir: opts.dir, extraArgs: opts.proxyArgs, timeoutMs: opts.timeoutMs });
  let tsmp: RssFigure;
  try {
    const target: Target = { kind: 'tsmp', port: proxy.port, user: `phone.${BENCH_UID}`, pass: BENCH_DEVICES.phone, host: '127.0.0.1', destPort: opts.sourcePort };
    tsmp = await rssPerConnection(opts.load, { child: proxy.child, target }, opts.connections, opts.nofile, opts.timeoutMs);
  } finally {
    await proxy.child.stop();
  }
  const ha = await startHaproxy({ backendPort: opts.sourcePort, threads: opts.haproxyThreads, dir: opts.dir, timeoutMs: opts.timeoutMs, maxconn: opts.haproxyMaxconn });
  let haproxy: RssFigure;
  try {
    // At the same count as tsmp, so that the two are compared like for like.
    haproxy = await rssPerConnection(opts.load, { child: ha.child, target: { kind: 'haproxy', port: ha.port } }, tsmp.connections, opts.nofile, opts.timeoutMs);
  } finally {
    await ha.child.stop();
  }
  const limited = Math.min(tsmp.connections, haproxy.connections) < opts.connections;
  return {
    tsmp,
    haproxy,
    ratioToHaproxy: Number((tsmp.bytesPerConnection / haproxy.bytesPerConnection).toFixed(2)),
    ...(limited
      ? {
          note:
            `measured at ${tsmp.connections} connections, not ${opts.connections}: the fd limit is ${opts.nofile} and cannot be raised here ` +
            `(no CAP_SYS_RESOURCE), and the tsmp proxy spends ${tsmp.fdsPerConnection} fds per relayed connection`,
        }
      : {}),
  };
}
