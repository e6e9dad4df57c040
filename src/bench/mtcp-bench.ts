import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseHostPort } from '../common/host-port.js';
import { MtcpClientConnection } from '../mtcp/client/client-connection.js';
import { clientDecoderTuning } from '../mtcp/client/client-handshake.js';
import { streamHandler } from '../mtcp/examples/stream-server.js';
import { formatStreamRequest } from '../mtcp/examples/stream-protocol.js';
import { runMtcpNetemBench } from './mtcp-netem.js';
import { startPool } from './mtcp-overhead-servers.js';
import { StreamCheck } from './mtcp-stream-check.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Issue 5's benchmark: server-migration latency (p50/p99, split into state transfer and reconnect)
 * and the kit's throughput overhead against the same server without the kit, in the same run.
 * On loopback; the migration figures in this process, the overhead figure's servers in their own.
 */
const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/** One TCP handshake as the application sees it (connect() → 'connect'), in ms. */
async function connectTimeMs(address: string): Promise<number> {
  const [host, port] = address.split(':') as [string, string];
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const s = connect({ host, port: Number(port) }, () => (s.destroy(), resolve()));
    s.on('error', reject);
  });
  return performance.now() - t0;
}

/** Loopback RTT as the TCP handshake time (connect → established), median of 20. */
async function loopbackRttMs(address: string): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 20; i++) xs.push(await connectTimeMs(address));
  return q(xs, 0.5);
}

interface Samples {
  transfer: number[];
  reconnect: number[];
  total: number[];
  /** A TCP handshake to the same member just before the migration, under the same load. */
  rtt: number[];
  viaStandby: number;
}

/**
 * Server-migration latency with the standby connection and without it, on the same pool in the
 * same run: two clients streaming at once, migrated alternately (so that load from elsewhere
 * hits both alike). `reconnect` is everything but the transfer: detach → RESUMED minus the
 * member's transfer time (with the standby: the hello's one RTT; without: the TCP handshake too).
 */
async function migrationLatency(store: string, n: number): Promise<Record<string, unknown>> {
  const { pool, servers } = await startPool(store, streamHandler({ rate: 2_000_000 }));
  try {
    const checks: StreamCheck[] = [];
    const open = async (standby: boolean, seed: string): Promise<MtcpClientConnection> => {
      const c = await new MtcpClientConnection({ address: pool.members[0]!.address, standby }).connect();
      const check = new StreamCheck(seed);
      checks.push(check);
      c.on('data', (b: Buffer) => check.update(b));
      c.write(formatStreamRequest({ seed, length: 1 << 30 }));
      return c;
    };
    const withConn = await open(true, 'bench-standby');
    const withoutConn = await open(false, 'bench-connect');
    await new Promise((r) => setTimeout(r, 100));
    const sides: Array<[MtcpClientConnection, Samples]> = [
      [withConn, { transfer: [], reconnect: [], total: [], rtt: [], viaStandby: 0 }],
      [withoutConn, { transfer: [], reconnect: [], total: [], rtt: [], viaStandby: 0 }],
    ];
    for (let i = 0; i < n; i++) {
      for (const [conn, s] of i % 2 === 0 ? sides : [...sides].reverse()) {
        // The standby of the previous migration is re-opened in the background: give it the
        // moment it needs (a real client migrates seconds apart, not milliseconds).
        await new Promise((res) => setTimeout(res, 10));
        const next = conn.members[(conn.members.findIndex((m) => m.id === conn.member) + 1) % conn.members.length]!;
        s.rtt.push(await connectTimeMs(next.address));
        const r = await conn.migrate();
        s.transfer.push(r.transfer!.ms);
        s.total.push(r.timings.resumeMs!);
        s.reconnect.push(Math.max(0, r.timings.resumeMs! - r.transfer!.ms));
        if (r.via === 'standby') s.viaStandby++;
      }
    }
    const rtt = await loopbackRttMs(pool.members[0]!.address);
    // The streams went on after the last migration (100 ms of stream), then every byte is checked.
    const marks = checks.map((c) => c.received);
    const deadline = performance.now() + 10_000;
    while (checks.some((c, k) => c.received < marks[k]! + 200_000) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    withConn.destroy();
    withoutConn.destroy();
    const streams = checks.map((c) => c.verify());
    if (streams.some((c) => !c.exact) || checks.some((c, k) => c.received < marks[k]! + 200_000)) throw new Error(`stream check failed: ${JSON.stringify(streams)}`);
    const report = (s: Samples): Record<string, unknown> => ({
      viaStandbyShare: round(s.viaStandby / n, 3),
      transferMs: { p50: round(q(s.transfer, 0.5), 3), p99: round(q(s.transfer, 0.99), 3) },
      reconnectMs: { p50: round(q(s.reconnect, 0.5), 3), p99: round(q(s.reconnect, 0.99), 3) },
      totalMs: { p50: round(q(s.total, 0.5), 3), p99: round(q(s.total, 0.99), 3) },
      reconnectRtts: { p50: round(q(s.reconnect, 0.5) / rtt, 1), p99: round(q(s.reconnect, 0.99) / rtt, 1) },
      /** The RTT as measured under the streams' load, just before each migration. */
      rttUnderLoadMs: { p50: round(q(s.rtt, 0.5), 3), p99: round(q(s.rtt, 0.99), 3) },
      reconnectOverLoadedRtt: { p50: round(q(s.reconnect.map((x, i) => x / s.rtt[i]!), 0.5), 2), p99: round(q(s.reconnect.map((x, i) => x / s.rtt[i]!), 0.99), 2) },
      /** Share of migrations with migration ≤ 1 RTT (under load, measured just before) + transfer. */
      withinOneLoadedRttShare: round(s.reconnect.filter((x, i) => x <= s.rtt[i]!).length / n, 3),
      /**
       * Issue target: migration ≤ one RTT + state transfer, per migration. On loopback an RTT is
       * tens of µs, less than one turn of Node's event loop on each side, so `reconnect` is
       * dominated by those turns; `withinOneRttShare` says how often the target held literally.
       */
      withinOneRttShare: round(s.reconnect.filter((b) => b <= rtt).length / n, 3),
      withinTwoRttShare: round(s.reconnect.filter((b) => b <= 2 * rtt).length / n, 3),
    });
    const a = sides[0]![1];
    const b = sides[1]![1];
    return {
      store,
      migrations: n,
      /** Both streams, SHA-256 of every byte received against the expected sequence. */
      streams,
      rttMs: round(rtt, 3),
      withStandby: report(a),
      withoutStandby: report(b),
      /** Reconnect part with the standby over without it (p50), same run: < 1 is a gain. */
      reconnectRatioP50: round(q(a.reconnect, 0.5) / q(b.reconnect, 0.5), 2),
      totalRatioP50: round(q(a.total, 0.5) / q(b.total, 0.5), 2),
    };
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}

/** A fixed 64 KiB chunk repeated: measures the kit's own cost without the generator's. */
async function timeRead(open: () => Promise<{ write(s: string): void; on(e: 'data', f: (c: Buffer) => void): void; destroy(): void }>, length: number): Promise<number> {
  const c = await open();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let got = 0;
    c.on('data', (b) => {
      got += b.length;
      if (got >= length) resolve();
    });
    c.write(formatStreamRequest({ seed: 'tp', length }));
  });
  const s = (performance.now() - t0) / 1000;
  c.destroy();
  return length / s;
}

/** Starts the servers' child process and returns their addresses once it printed them. */
async function overheadServersChild(raw: boolean): Promise<{ plainAddress: string; kitAddress: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(HERE, 'mtcp-overhead-server-main.js'), raw ? 'raw' : 'sha'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    once(lines, 'line').then(([l]) => String(l)),
    once(child, 'exit').then(([code]) => Promise.reject(new Error(`overhead servers exited with ${String(code)}`))),
    sleep(15_000).then(() => Promise.reject(new Error('overhead servers did not start within 15 s'))),
  ]);
  const a = JSON.parse(first) as { plainAddress: string; kitAddress: string };
  return { ...a, child };
}

/**
 * The same stream from the same server code with and without the kit, read by this process
 * while the servers run in their own (as a client and a server would), interleaved rounds.
 */
async function throughputOverhead(raw: boolean, length: number, rounds: number): Promise<Record<string, unknown>> {
  const servers = await overheadServersChild(raw);
  const without: number[] = [];
  const withKit: number[] = [];
  const withKitWhole: number[] = [];
  const kit = (streamData: boolean) => async () => {
    clientDecoderTuning.streamData = streamData;
    try {
      return await new MtcpClientConnection({ address: servers.kitAddress }).connect();
    } finally {
      clientDecoderTuning.streamData = true;
    }
  };
  const { host, port } = parseHostPort(servers.plainAddress);
  try {
    // Interleaved rounds, so that load from elsewhere hits all sides alike.
    for (let i = 0; i < rounds; i++) {
      without.push(await timeRead(async () => {
        const s = connect({ host, port });
        await new Promise((r) => s.once('connect', r));
        return s;
      }, length));
      withKit.push(await timeRead(kit(true), length));
      withKitWhole.push(await timeRead(kit(false), length));
    }
  } finally {
    servers.child.kill('SIGTERM');
  }
  const a = q(without, 0.5);
  const b = q(withKit, 0.5);
  const c = q(withKitWhole, 0.5);
  // Paired: each round's overhead against the plain server read just before it, median over
  // rounds; steadier than the ratio of medians when the machine's load drifts during the figure.
  const paired = q(without.map((x, i) => (100 * (x - withKit[i]!)) / x), 0.5);
  return {
    generator: raw ? 'fixed 64 KiB chunk (kit cost alone)' : 'SHA-256 stream (the sample server)',
    servers: 'own process',
    bytesPerRound: length,
    rounds,
    withoutKitMBps: round(a / 1e6, 1),
    withKitMBps: round(b / 1e6, 1),
    overheadPct: round((100 * (a - b)) / a, 1),
    overheadPairedPct: round(paired, 1),
    roundsMBps: { without: without.map((x) => round(x / 1e6, 1)), withKit: withKit.map((x) => round(x / 1e6, 1)), withKitWholeFrames: withKitWhole.map((x) => round(x / 1e6, 1)) },
    /** The client decoder reassembling DATA frames that span reads (before the streaming decoder). */
    withKitWholeFramesMBps: round(c / 1e6, 1),
    overheadWholeFramesPct: round((100 * (a - c)) / a, 1),
  };
}

export async function runMtcpBench(opts: { quick: boolean }): Promise<object> {
  const n = opts.quick ? 100 : 200;
  const lazy = await migrationLatency('memory', n);
  const eager = await migrationLatency('push', n);
  const sha = await throughputOverhead(false, opts.quick ? 16 << 20 : 32 << 20, opts.quick ? 3 : 9);
  const raw = await throughputOverhead(true, opts.quick ? 128 << 20 : 512 << 20, opts.quick ? 3 : 5);
  // Where an RTT is a network delay (namespaces, src/netem): skipped with a reason without root.
  const netem = await runMtcpNetemBench({ quick: opts.quick }).catch((err: Error) => ({ failed: err.message }));
  return {
    name: 'mtcp',
    migrationLatency: [lazy, eager],
    migrationLatencyNetem: netem,
    throughputOverhead: [sha, raw],
    targets: {
      migration: 'one RTT + state transfer: on loopback see withStandby.reconnectRtts and withinOneRttShare; on the emulated network, migrationLatencyNetem.runs[].withStandby.target (reconnect p50/p99 ≤ handshake RTT + 1 ms)',
      overheadPct: 10,
    },
  };
}

/**
 * Console summary for `npm run bench` (the JSON file keeps everything): the result without the
 * per-migration sample arrays, then one line per emulated-network run and side.
 */
export function formatMtcpBench(result: unknown): string {
  const lines = [JSON.stringify(result, (k, v: unknown) => (k === 'samples' ? undefined : v), 2)];
  type P = { p50: number; p99: number };
  type Check = { limitMs: number; p50Pass: boolean; p99Pass: boolean };
  type Side = { totalMs: P; transferMs: P; reconnectMs: P; reconnectOverConfiguredRtt: P; target: { configuredRtt: Check; handshakeRtt: Check; echoRtt: Check } };
  type Run = { clientRttMs: number; memberRttMs: number; store: string; clientHandshakeRttMs: P; clientEchoRttMs: P; withStandby: Side; withoutStandby: Side };
  const netem = (result as { migrationLatencyNetem?: { runs?: Run[] } }).migrationLatencyNetem;
  for (const r of netem?.runs ?? []) {
    for (const side of ['withStandby', 'withoutStandby'] as const) {
      const s = r[side];
      const t = (c: Check): string => `≤ ${c.limitMs} ms p50 ${c.p50Pass ? 'pass' : 'FAIL'} p99 ${c.p99Pass ? 'pass' : 'FAIL'}`;
      lines.push(`netem rtt ${r.clientRttMs} ms (handshake ${r.clientHandshakeRttMs.p50}, echo ${r.clientEchoRttMs.p50}), members ${r.memberRttMs} ms, ${r.store}, ${side}: ` +
        `total p50/p99 ${s.totalMs.p50}/${s.totalMs.p99}, transfer ${s.transferMs.p50}/${s.transferMs.p99}, reconnect ${s.reconnectMs.p50}/${s.reconnectMs.p99} ms ` +
        `= ${s.reconnectOverConfiguredRtt.p50}/${s.reconnectOverConfiguredRtt.p99} RTT; target: configured ${t(s.target.configuredRtt)}, handshake ${t(s.target.handshakeRtt)}, echo ${t(s.target.echoRtt)}`);
    }
  }
  return lines.join('\n');
}
