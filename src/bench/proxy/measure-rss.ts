import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchChild } from './child-process.js';
import { startHaproxy } from './haproxy.js';
import type { JsonLinesClient } from './json-lines.js';
import { treeRss } from './process-rss.js';
import type { Target } from './targets.js';
import { BENCH_DEVICES, BENCH_UID, startTsmpProxy } from './tsmp-proxy.js';

export interface RssFigure {
  connections: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** (after − before) / connections. */
  bytesPerConnection: number;
  processes: number;
}

const WARMUP_CONNECTIONS = 200;
const SETTLE_MS = 1000;

/**
 * RSS per idle relayed connection: VmRSS of the relay's processes with `connections` idle
 * connections open, minus VmRSS before, divided. The relay first carries a few connections so
 * that its code paths are loaded before the "before" reading.
 */
async function rssPerConnection(load: JsonLinesClient, relay: { child: BenchChild; target: Target }, count: number, timeoutMs: number): Promise<RssFigure> {
  const open = (n: number) =>
    load.call('openIdle', { target: relay.target, count: n, concurrency: 100, dialTimeoutMs: timeoutMs }, timeoutMs + n * 10);
  try {
    await open(WARMUP_CONNECTIONS);
    await load.call('releaseIdle', { timeoutMs }, 2 * timeoutMs);
    await sleep(SETTLE_MS);
    const before = treeRss(relay.child.pid);
    await open(count);
    await sleep(SETTLE_MS);
    const after = treeRss(relay.child.pid);
    return {
      connections: count,
      rssBeforeBytes: before.bytes,
      rssAfterBytes: after.bytes,
      bytesPerConnection: Math.round((after.bytes - before.bytes) / count),
      processes: after.processes,
    };
  } finally {
    await load.call('releaseIdle', { timeoutMs }, 2 * timeoutMs);
  }
}

export async function measureRss(opts: {
  load: JsonLinesClient;
  dir: string;
  proxyArgs: string[];
  sourcePort: number;
  haproxyThreads: number;
  haproxyMaxconn: number;
  connections: number;
  timeoutMs: number;
}): Promise<{ tsmp: RssFigure; haproxy: RssFigure; ratioToHaproxy: number }> {
  const proxy = await startTsmpProxy({ dir: opts.dir, extraArgs: opts.proxyArgs, timeoutMs: opts.timeoutMs });
  let tsmp: RssFigure;
  try {
    const target: Target = { kind: 'tsmp', port: proxy.port, user: `phone.${BENCH_UID}`, pass: BENCH_DEVICES.phone, host: '127.0.0.1', destPort: opts.sourcePort };
    tsmp = await rssPerConnection(opts.load, { child: proxy.child, target }, opts.connections, opts.timeoutMs);
  } finally {
    await proxy.child.stop();
  }
  const ha = await startHaproxy({ backendPort: opts.sourcePort, threads: opts.haproxyThreads, dir: opts.dir, timeoutMs: opts.timeoutMs, maxconn: opts.haproxyMaxconn });
  let haproxy: RssFigure;
  try {
    haproxy = await rssPerConnection(opts.load, { child: ha.child, target: { kind: 'haproxy', port: ha.port } }, opts.connections, opts.timeoutMs);
  } finally {
    await ha.child.stop();
  }
  return { tsmp, haproxy, ratioToHaproxy: Number((tsmp.bytesPerConnection / haproxy.bytesPerConnection).toFixed(2)) };
}
