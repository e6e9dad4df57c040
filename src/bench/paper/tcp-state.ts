import type { Topology } from '../../netem/topology.js';

/**
 * The server's TCP state, read from Alice's kernel (issue 6, "What to measure"): namespace-wide
 * counters from /proc/net/netstat and /proc/net/snmp (Alice's namespace holds only the bench's
 * connection, so they are this connection's), and the per-socket `ss -tin` fields.
 */
export interface TcpState {
  /** TcpExt.TCPTimeouts: retransmission timeouts (RTOs). */
  rtos: number;
  /** Tcp.RetransSegs: segments retransmitted. */
  retransSegs: number;
  /** TcpExt.TCPLossProbes: tail loss probes sent. */
  lossProbes: number;
  /** Per socket towards the proxy: `ssthresh` (null while still infinite, as `ss` shows it). */
  sockets: { ssthresh: number | null; cwnd: number | null; bytesAcked: number | null; retrans: string | null; state: string }[];
}

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

/** Parses `ss -tinH state all` output: a socket line followed by its (indented) info line. */
export function parseSsInfo(text: string, peer: string): TcpState['sockets'] {
  const lines = text.split('\n');
  const sockets: TcpState['sockets'] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!/^\S/.test(line) || !line.includes(`${peer}:`)) continue;
    // TIME-WAIT sockets are already closed and print no info line of their own.
    if (line.startsWith('TIME-WAIT')) continue;
    const next = lines[i + 1] ?? '';
    const info = /^\s/.test(next) ? next : '';
    const num = (re: RegExp): number | null => {
      const m = re.exec(info);
      return m ? Number(m[1]) : null;
    };
    sockets.push({
      state: line.split(/\s+/)[0] ?? '',
      ssthresh: num(/\bssthresh:(\d+)/),
      cwnd: num(/\bcwnd:(\d+)/),
      bytesAcked: num(/\bbytes_acked:(\d+)/),
      retrans: /\bretrans:(\S+)/.exec(info)?.[1] ?? null,
    });
  }
  return sockets;
}

export async function readTcpState(topo: Topology, host: string, peer: string): Promise<TcpState> {
  const [netstat, snmp, ss] = await Promise.all([
    topo.exec(host, 'cat', ['/proc/net/netstat']),
    topo.exec(host, 'cat', ['/proc/net/snmp']),
    topo.exec(host, 'ss', ['-tinH', 'state', 'all']),
  ]);
  const c = new Map([...parseProcNetCounters(netstat.stdout), ...parseProcNetCounters(snmp.stdout)]);
  return {
    rtos: c.get('TcpExt.TCPTimeouts') ?? 0,
    retransSegs: c.get('Tcp.RetransSegs') ?? 0,
    lossProbes: c.get('TcpExt.TCPLossProbes') ?? 0,
    sockets: parseSsInfo(ss.stdout, peer),
  };
}

/** What changed across a migration; the target is zero RTOs and an unchanged ssthresh. */
export function tcpDelta(before: TcpState, after: TcpState): { rtos: number; retransSegs: number; lossProbes: number; ssthreshBefore: number | null; ssthreshAfter: number | null; socketAfter: boolean } {
  return {
    socketAfter: after.sockets.length > 0,
    lossProbes: after.lossProbes - before.lossProbes,
    rtos: after.rtos - before.rtos,
    retransSegs: after.retransSegs - before.retransSegs,
    ssthreshBefore: before.sockets[0]?.ssthresh ?? null,
    ssthreshAfter: after.sockets[0]?.ssthresh ?? null,
  };
}
