import type { Topology } from '../../netem/topology.js';
import type { JsonlChild } from './jsonl-child.js';
import type { TcpSample } from './alice-server-main.js';

/**
 * The server's TCP state across a migration (issue 6, "What to measure"): namespace-wide counters
 * from /proc/net/netstat and /proc/net/snmp (Alice's namespace holds only the bench's connection,
 * so they are this connection's), and Alice's socket's own TCP_INFO, sampled by her process.
 */
/** Parses the `Name: k1 k2 ...` / `Name: v1 v2 ...` line pairs of /proc/net/{snmp,netstat}. */
export function parseProcNetCounters(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = text.split('\n').filter(Boolean);
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [group, ...keys] = lines[i]!.split(/\s+/);
    const [, ...values] = lines[i + 1]!.split(/\s+/);
    keys.forEach((k, j) => out.set(`${group!.replace(/:$/, '')}.${k}`, Number(values[j])));
  }
  return out;
}

/** Counters worth a look when the server retransmits (deltas go into the JSON results). */
const DIAGNOSTIC_COUNTERS = [
  'TcpExt.TCPTimeouts', 'TcpExt.TCPLossProbes', 'TcpExt.TCPLossProbeRecovery', 'TcpExt.TCPSpuriousRTOs',
  'TcpExt.TCPDSACKRecv', 'TcpExt.TCPDSACKUndo', 'TcpExt.TCPFastRetrans', 'TcpExt.TCPSlowStartRetrans',
  'TcpExt.TCPRcvQDrop', 'TcpExt.PruneCalled', 'TcpExt.RcvPruned', 'TcpExt.OfoPruned', 'TcpExt.TCPOFODrop',
  'TcpExt.TCPBacklogDrop', 'TcpExt.TCPZeroWindowDrop', 'TcpExt.TCPToZeroWindowAdv', 'TcpExt.TCPFromZeroWindowAdv',
  'TcpExt.TCPWantZeroWindowAdv', 'TcpExt.TCPDSACKOldSent', 'TcpExt.TCPDSACKOfoSent', 'Tcp.RetransSegs',
];

/** Namespace-wide TCP counters of `host` (the diagnostic subset). */
export async function readCounters(topo: Topology, host: string): Promise<Record<string, number>> {
  const [netstat, snmp] = await Promise.all([
    topo.exec(host, 'cat', ['/proc/net/netstat']),
    topo.exec(host, 'cat', ['/proc/net/snmp']),
  ]);
  const c = new Map([...parseProcNetCounters(netstat.stdout), ...parseProcNetCounters(snmp.stdout)]);
  return Object.fromEntries(DIAGNOSTIC_COUNTERS.map((k) => [k, c.get(k) ?? 0]));
}

export function counterDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(after)) {
    const d = (after[k] ?? 0) - (before[k] ?? 0);
    if (d !== 0) out[k.replace(/^TcpExt\./, '')] = d;
  }
  return out;
}

/** What Alice's own process read from her socket's TCP_INFO (alice-server-main.ts). */
export type ServerSample = TcpSample;

export async function readServerSample(alice: JsonlChild, id: string): Promise<ServerSample | null> {
  alice.send({ op: 'tcp', id });
  const ev = await alice.waitFor((e) => e.ev === 'tcp' && e.id === id, 'server TCP sample', 10_000);
  return (ev.sample as ServerSample | null) ?? null;
}

export interface ServerState {
  counters: Record<string, number>;
  sample: ServerSample | null;
}

export async function readServerState(topo: Topology, alice: JsonlChild, id: string): Promise<ServerState> {
  const [counters, sample] = await Promise.all([readCounters(topo, 'alice'), readServerSample(alice, id)]);
  return { counters, sample };
}

export interface TcpChange {
  rtos: number;
  retransSegs: number;
  lossProbes: number;
  ssthreshBefore: number | null;
  ssthreshAfter: number | null;
  /** Whether the "after" reading is of an open socket (false: the last reading before it closed). */
  socketAfter: boolean;
  /** ms between the window reopening and the "after" reading. */
  afterMs: number | null;
  /** Every diagnostic counter that changed, at the server and at the proxy. */
  server: Record<string, number>;
  proxy: Record<string, number>;
}

/**
 * What changed across a migration; the target is zero RTOs and an unchanged ssthresh.
 * Retransmissions and RTOs come from Alice's namespace counters (it holds only this connection),
 * ssthresh from her socket's own TCP_INFO, so "after" is never a socket that had already closed.
 */
export function tcpChange(before: ServerState, after: ServerState, proxyBefore: Record<string, number>, proxyAfter: Record<string, number>, resumedAt: number): TcpChange {
  const d = counterDelta(before.counters, after.counters);
  return {
    rtos: d.TCPTimeouts ?? 0,
    retransSegs: d['Tcp.RetransSegs'] ?? 0,
    lossProbes: d.TCPLossProbes ?? 0,
    ssthreshBefore: before.sample?.ssthresh ?? null,
    ssthreshAfter: after.sample?.ssthresh ?? null,
    socketAfter: after.sample?.open ?? false,
    afterMs: after.sample ? after.sample.t - resumedAt : null,
    server: d,
    proxy: counterDelta(proxyBefore, proxyAfter),
  };
}
