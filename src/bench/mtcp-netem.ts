import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { netemPreflight } from '../netem/preflight.js';
import { measureConnectRtt } from '../netem/probes.js';
import { cleanupStale } from '../netem/teardown.js';
import { Topology, type HostSpec } from '../netem/topology.js';
import type { ForwarderStats } from '../netem/delay-forwarder.js';
import { JsonlChild, type Event } from './paper/jsonl-child.js';
import { matchMemberResumes, summarizeNetemSide, type NetemMigration } from './mtcp-netem-report.js';

/**
 * The M-TCP migration-latency benchmark on an emulated network (docs/mtcp.md, "Benchmark on an
 * emulated network"): the client and the three pool members each in a network namespace, with a
 * configured one-way delay on each host's link (src/netem/, a user-space delay forwarder), so that
 * an RTT is a network delay and not a few event-loop turns as on loopback. Every member and the
 * client are separate processes; the namespaces are removed whatever happens (Topology.down in a
 * finally, and on exit/signals through netem's teardown registry).
 */
const HERE = dirname(fileURLToPath(import.meta.url));
const MEMBERS = ['m1', 'm2', 'm3'] as const;
const PORT = 7101;
/** Below the default, like the paper bench's role processes: other load on the shared machine should not add ms that are not the network's. */
const NICENESS = -10;
/**
 * The stream rate, lower than the loopback bench's 2 MB/s: the delay forwarder is JavaScript at
 * about 20,000 packets/s (docs/netem.md), and with the push store every snapshot save (every
 * 20 ms) carries the unacknowledged output (≈ RTT × rate) to both other members; at 2 MB/s and a
 * 40 ms RTT that alone is ~20,000 packets/s, and the forwarder's lateness (1.2 ms per packet on
 * average in a trial) then lands in every figure. At 500 kB/s it stays well below.
 */
const RATE = 500_000;
/**
 * Warm-up migrations per side, left out of the figures (as hyperfine's `--warmup` or JMH's warm-up
 * iterations): one round of the three members, so that every process has run the migration code
 * once and the lazy store's peer links exist. Reported apart in the JSON.
 */
const WARMUP = 3;

export interface NetemPath {
  /** RTT between the client and each member, as configured (sum of the four one-way delays). */
  clientRttMs: number;
  /** RTT between two members, as configured. */
  memberRttMs: number;
}

/**
 * Star topology: each host's link has one delay each way. Member links get memberRtt/4 (two
 * member links make a member↔member path: 4 one-way delays), the client's link the rest of
 * clientRtt/2.
 */
export function netemHosts(p: NetemPath): HostSpec[] {
  const dm = p.memberRttMs / 4;
  const dc = p.clientRttMs / 2 - dm;
  if (dc < 0) throw new Error(`client RTT ${p.clientRttMs} ms cannot be below half the member RTT ${p.memberRttMs} ms in a star`);
  return [{ name: 'client', link: { delayMs: dc } }, ...MEMBERS.map((name) => ({ name, link: { delayMs: dm } }))];
}

export const NETEM_PATHS: NetemPath[] = [
  { clientRttMs: 10, memberRttMs: 2 },
  { clientRttMs: 40, memberRttMs: 2 },
  { clientRttMs: 10, memberRttMs: 10 },
];

/** Processing allowance of the target check (docs/mtcp.md says why 1 ms). */
export const ALLOWANCE_MS = 1;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function stopChild(c: JsonlChild, ms = 3000): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.child.once('exit', () => r()));
  c.child.stdin?.end();
  const timer = setTimeout(() => c.child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

async function runStore(topo: Topology, path: NetemPath, store: 'memory' | 'push', n: number, inspect?: NetemBenchOptions['inspect']): Promise<Record<string, unknown>> {
  const pool = { key: randomBytes(24).toString('hex'), members: MEMBERS.map((id) => ({ id, address: `${topo.host(id).address}:${PORT}` })), store };
  const spawn = (host: string, script: string, args: string[]): JsonlChild =>
    new JsonlChild(`${script} on ${host}`, topo.spawn(host, process.execPath, [join(HERE, script), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'], niceness: NICENESS, env: { ...process.env, TSMP_LOG: process.env.TSMP_LOG ?? 'warn' },
    }));
  const members = MEMBERS.map((id) => spawn(id, 'mtcp-netem-member-main.js', [JSON.stringify({ pool, id, rate: RATE })]));
  let client: JsonlChild | undefined;
  try {
    await Promise.all(members.map((m) => m.waitFor((e) => e.ev === 'listening', 'listening', 15_000)));
    // Member ↔ member as TCP sees it (the lazy fetch's path), idle.
    const memberHandshakes = await measureConnectRtt(topo, 'm2', 'm1', PORT, 20);
    client = spawn('client', 'mtcp-netem-client-main.js', []);
    const settleMs = Math.max(20, path.clientRttMs / 2 + 10);
    client.send({ cmd: 'run', address: pool.members[0]!.address, n, warmup: WARMUP, settleMs, standbyWaitMs: 5 * path.clientRttMs + 500, rate: RATE });
    // Per migration at most: probe + standby wait + settle + a migration of a few RTTs; generous.
    const bound = 30_000 + 2 * (n + WARMUP) * (10 * path.clientRttMs + settleMs + 200);
    const done = await client.waitFor((e) => e.ev === 'done', 'the migrations', bound);
    const rtt = client.all('rtt')[0] as Event & { handshakes: Record<string, number[]>; echoes: Record<string, number[]> };
    const clientHandshakes = Object.values(rtt.handshakes).flat();
    const clientEchoes = Object.values(rtt.echoes).flat();
    const echoRttMs = median(clientEchoes);
    const all = client.all('migration') as unknown as NetemMigration[];
    const migrations = all.filter((m) => !m.warmup);
    matchMemberResumes(migrations, members.flatMap((m) => m.all('resumed') as unknown as Array<{ cid: string; mono: number }>));
    const handshakeRttMs = median(clientHandshakes);
    const side = (name: string): Record<string, unknown> =>
      summarizeNetemSide(migrations.filter((m) => m.side === name), path.clientRttMs, handshakeRttMs, echoRttMs, ALLOWANCE_MS);
    await inspect?.(topo, store);
    const checks = done.checks as Array<{ side: string; seed: string; bytes: number; exact: boolean }>;
    if (!done.streamWentOn || checks.some((c) => !c.exact)) throw new Error(`stream check failed: ${JSON.stringify({ streamWentOn: done.streamWentOn, checks })}`);
    return {
      store,
      migrationsPerSide: n,
      clientRttMs: path.clientRttMs,
      memberRttMs: path.memberRttMs,
      /** TCP handshake (connect → established) client → members, idle, 20 per member. */
      clientHandshakeRttMs: { min: Math.round(Math.min(...clientHandshakes) * 1000) / 1000, p50: Math.round(handshakeRttMs * 1000) / 1000 },
      /** 1-byte request/response (TCP_RR) client → each member's process, idle, 20 per member. */
      clientEchoRttMs: { min: Math.round(Math.min(...clientEchoes) * 1000) / 1000, p50: Math.round(echoRttMs * 1000) / 1000 },
      /** The same, m2 → m1 (the path of a lazy fetch), 20 handshakes. */
      memberHandshakeRttMs: { min: Math.round(Math.min(...memberHandshakes) * 1000) / 1000, p50: Math.round(median(memberHandshakes) * 1000) / 1000 },
      withStandby: side('withStandby'),
      withoutStandby: side('withoutStandby'),
      /** The warm-up migrations (not in the figures above): total and transfer, ms, per side. */
      warmup: Object.fromEntries(['withStandby', 'withoutStandby'].map((name) => [name, all.filter((m) => m.warmup && m.side === name).map((m) => ({ totalMs: m.totalMs, transferMs: m.transferMs }))])),
      streams: checks,
    };
  } finally {
    await Promise.all([...members, ...(client ? [client] : [])].map((c) => stopChild(c)));
  }
}

/** The delay forwarder's work during one run: packets, drops, and how late it released them. */
function forwarderDelta(a: ForwarderStats | null, b: ForwarderStats | null): Record<string, unknown> | null {
  if (!a || !b) return null;
  const count = b.lateness.count - a.lateness.count;
  return {
    packets: b.packetsIn - a.packetsIn,
    bytes: b.bytesIn - a.bytesIn,
    dropped: b.droppedLoss + b.droppedOverflow - a.droppedLoss - a.droppedOverflow,
    latenessMeanMs: count > 0 ? Math.round(((b.lateness.mean * b.lateness.count - a.lateness.mean * a.lateness.count) / count) * 1000) / 1000 : null,
    /** Since the topology was built (the forwarder keeps no per-run maximum). */
    latenessMaxMsSoFar: Math.round(b.lateness.max * 1000) / 1000,
    peakQueueBytesSoFar: b.peakQueueBytes,
    realtime: b.realtime,
  };
}

export interface NetemBenchOptions {
  quick: boolean;
  paths?: NetemPath[];
  stores?: Array<'memory' | 'push'>;
  /** Migrations per side (default 30 quick, 100 full). */
  n?: number;
  /** Called with the live topology after each store's run, before the namespaces go (diagnostics: `ss -tin`). */
  inspect?: (topo: Topology, store: string) => Promise<void>;
}

export async function runMtcpNetemBench(opts: NetemBenchOptions): Promise<Record<string, unknown>> {
  const pre = await netemPreflight();
  if (!pre.ok) return { skipped: `no emulated network here: ${pre.reason}` };
  await cleanupStale();
  const n = opts.n ?? (opts.quick ? 30 : 100);
  const runs: Record<string, unknown>[] = [];
  for (const path of opts.paths ?? NETEM_PATHS) {
    const topo = await Topology.create({ hosts: netemHosts(path) });
    try {
      for (const store of opts.stores ?? (['memory', 'push'] as const)) {
        const before = topo.forwarderStats();
        const run = await runStore(topo, path, store, n, opts.inspect);
        run.forwarder = forwarderDelta(before, topo.forwarderStats());
        runs.push(run);
      }
    } finally {
      topo.down();
    }
  }
  return {
    method: `client and members in network namespaces, one-way delays on each link (src/netem); on-demand migrations under a ${RATE / 1000} kB/s stream, with and without the standby, alternated; ${WARMUP} warm-up migrations per side left out`,
    streamBytesPerSecond: RATE,
    allowanceMs: ALLOWANCE_MS,
    runs,
  };
}
