/**
 * The client of the M-TCP netem benchmark (`mtcp-netem.ts`), run inside the client's network
 * namespace. On `{"cmd":"run", address, n, settleMs, standbyWaitMs}` it measures the TCP-handshake
 * RTT to every member, then streams from the pool over two connections at once, one keeping the
 * standby connection and one without it, migrates them alternately on demand `n` times each, and
 * prints one `migration` event per migration and a `done` event with the byte-exact checks of
 * both streams. The first `warmup` migrations of each side are marked as such: they run in
 * processes whose code is still cold (V8 compiles on first use) and, with the lazy store, they
 * open the members' peer links, which a pool that has been up a while already has.
 */
import { connect, type Socket } from 'node:net';
import { MtcpClientConnection } from '../mtcp/client/client-connection.js';
import { formatStreamRequest } from '../mtcp/examples/stream-protocol.js';
import { parseHostPort } from '../common/host-port.js';
import { StreamCheck } from './mtcp-stream-check.js';
import { emit, onCommands } from './paper/role-io.js';
import { monoMs } from './mtcp-mono-clock.js';

interface RunCommand {
  cmd: 'run';
  /** First member's address. */
  address: string;
  n: number;
  /** Pause before each migration (after the handshake probe), ms. */
  settleMs: number;
  /** Longest wait for the standby to be connected to the next member, ms. */
  standbyWaitMs: number;
  /** Stream rate the members serve at (for the "stream went on" wait), bytes/s. */
  rate: number;
  /** Migrations per side before the measured ones, reported apart (`warmup: true`). */
  warmup: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One TCP handshake as the application sees it (connect() → 'connect'), in ms. */
async function connectTimeMs(address: string, timeoutMs = 5000): Promise<number> {
  const { host, port } = parseHostPort(address);
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const s = connect({ host, port });
    const timer = setTimeout(() => (s.destroy(), reject(new Error(`connect to ${address} timed out`))), timeoutMs);
    s.once('connect', () => (clearTimeout(timer), s.destroy(), resolve()));
    s.on('error', (err) => (clearTimeout(timer), reject(err)));
  });
  return performance.now() - t0;
}

/**
 * A request/response round trip on an established connection (netperf TCP_RR): 1 byte to the
 * member's echo port and back, in ms.
 */
class EchoProbe {
  private constructor(private readonly s: Socket) {}

  static async open(address: string): Promise<EchoProbe> {
    const { host, port } = parseHostPort(address);
    const s = connect({ host, port: port + 1 });
    s.setNoDelay(true);
    await new Promise<void>((resolve, reject) => s.once('connect', () => resolve()).once('error', reject));
    s.on('error', () => {});
    return new EchoProbe(s);
  }

  rtt(timeoutMs = 5000): Promise<number> {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('echo probe timed out')), timeoutMs);
      this.s.once('data', () => (clearTimeout(timer), resolve(performance.now() - t0)));
      this.s.write('x');
    });
  }

  close(): void {
    this.s.destroy();
  }
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(1);
  }
  return true;
}

async function run(c: RunCommand): Promise<void> {
  const open = async (standby: boolean, seed: string): Promise<{ conn: MtcpClientConnection; check: StreamCheck }> => {
    const conn = await new MtcpClientConnection({ address: c.address, standby }).connect();
    const check = new StreamCheck(seed);
    conn.on('data', (b: Buffer) => check.update(b));
    conn.write(formatStreamRequest({ seed, length: 2 ** 40 }));
    return { conn, check };
  };
  // The member list (from the WELCOME) without a stream: a stream left behind would keep its
  // member writing into an orphaned session and, with the push store, pushing it to the others
  // for `orphanRetentionMs`, during the RTT measurements below.
  const first = await new MtcpClientConnection({ address: c.address, standby: false }).connect();
  const members = first.members;
  first.destroy();
  // The path's RTT as TCP sees it, idle: median and minimum of 20 handshakes per member.
  // The same with a 1-byte request/response on an established connection (TCP_RR).
  const handshakes: Record<string, number[]> = {};
  const echoes: Record<string, number[]> = {};
  const probes = new Map<string, EchoProbe>();
  for (const m of members) {
    handshakes[m.id] = [];
    echoes[m.id] = [];
    probes.set(m.id, await EchoProbe.open(m.address));
    for (let i = 0; i < 20; i++) handshakes[m.id]!.push(await connectTimeMs(m.address));
    for (let i = 0; i < 20; i++) echoes[m.id]!.push(await probes.get(m.id)!.rtt());
  }
  emit('rtt', { handshakes, echoes });

  const sides = [
    { name: 'withStandby', ...(await open(true, 'netem-standby')) },
    { name: 'withoutStandby', ...(await open(false, 'netem-connect')) },
  ];
  await sleep(300);
  for (let i = 0; i < c.warmup + c.n; i++) {
    for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
      const { conn } = side;
      const next = conn.members[(conn.members.findIndex((m) => m.id === conn.member) + 1) % conn.members.length]!;
      // A TCP handshake to the member about to take the connection, under the same load.
      const handshakeMs = await connectTimeMs(next.address);
      const echoMs = await probes.get(next.id)!.rtt();
      // The standby is re-aimed after each migration (one handshake away): wait for it, as a
      // real client migrating seconds apart would have it. The settle pause also lets the
      // probe's close reach the member before the migration starts.
      const standbyReady = side.name === 'withStandby' ? await waitUntil(() => conn.standbyMember === next.id, c.standbyWaitMs) : null;
      await sleep(c.settleMs);
      const startMono = monoMs();
      const r = await conn.migrate();
      const endMono = monoMs();
      emit('migration', {
        side: side.name, i: i - c.warmup, warmup: i < c.warmup, from: r.from, to: r.to, via: r.via ?? null, standbyReady, attempts: r.attempts.length,
        cid: conn.cid, startMono, endMono, echoMs, totalMs: r.timings.totalMs, resumeMs: r.timings.resumeMs, transferMs: r.transfer?.ms ?? null, source: r.transfer?.source ?? null, handshakeMs,
      });
    }
  }
  // The streams went on after the last migration: at least 100 ms of stream more on each.
  const marks = sides.map((s) => s.check.received);
  const went = await waitUntil(() => sides.every((s, k) => s.check.received >= marks[k]! + c.rate / 10), 10_000);
  for (const s of sides) s.conn.destroy();
  for (const p of probes.values()) p.close();
  emit('done', { streamWentOn: went, checks: sides.map((s) => ({ side: s.name, ...s.check.verify() })) });
}

onCommands(async (cmd) => {
  if (cmd.cmd === 'run') await run(cmd as unknown as RunCommand);
});
