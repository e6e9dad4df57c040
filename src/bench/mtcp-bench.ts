import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { MtcpClientConnection } from '../mtcp/client/client-connection.js';
import { clientDecoderTuning } from '../mtcp/client/client-handshake.js';
import { MtcpServer } from '../mtcp/server/mtcp-server.js';
import { parsePoolConfig, type PoolConfig } from '../mtcp/server/pool-config.js';
import type { MtcpSession } from '../mtcp/server/session-types.js';
import { streamHandler } from '../mtcp/examples/stream-server.js';
import { formatStreamRequest, parseStreamRequest, streamBytes } from '../mtcp/examples/stream-protocol.js';

/**
 * Issue 5's benchmark: server-migration latency (p50/p99, split into state transfer and reconnect)
 * and the kit's throughput overhead against the same server without the kit, in the same run.
 * Everything on loopback, in this process.
 */
const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

async function startPool(store: string, handler: (s: MtcpSession) => void): Promise<{ pool: PoolConfig; servers: MtcpServer[] }> {
  const pool = parsePoolConfig({ key: randomBytes(24).toString('hex'), members: ['b1', 'b2', 'b3'].map((id) => ({ id, address: '127.0.0.1:0' })), store });
  const servers: MtcpServer[] = [];
  for (const m of pool.members) {
    const s = new MtcpServer({ pool, id: m.id, handler });
    m.address = await s.listen();
    servers.push(s);
  }
  return { pool, servers };
}

/** Loopback RTT as the TCP handshake time (connect → established), median of 20. */
async function loopbackRttMs(address: string): Promise<number> {
  const [host, port] = address.split(':') as [string, string];
  const xs: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host, port: Number(port) }, () => (s.destroy(), resolve()));
      s.on('error', reject);
    });
    xs.push(performance.now() - t0);
  }
  return q(xs, 0.5);
}

async function migrationLatency(store: string, n: number): Promise<Record<string, unknown>> {
  const { pool, servers } = await startPool(store, streamHandler({ rate: 2_000_000 }));
  try {
    const conn = await new MtcpClientConnection({ address: pool.members[0]!.address }).connect();
    conn.on('data', () => {});
    conn.write(formatStreamRequest({ seed: 'bench', length: 1 << 30 }));
    await new Promise((r) => setTimeout(r, 100));
    const transfer: number[] = [];
    const reconnect: number[] = [];
    const total: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = await conn.migrate();
      transfer.push(r.transfer!.ms);
      reconnect.push(r.timings.reconnectMs!);
      total.push(r.timings.resumeMs!);
      await new Promise((res) => setTimeout(res, 10));
    }
    const rtt = await loopbackRttMs(pool.members[0]!.address);
    const beyond = total.map((t, i) => Math.max(0, t - transfer[i]!));
    conn.destroy();
    return {
      store,
      migrations: n,
      rttMs: round(rtt, 3),
      transferMs: { p50: round(q(transfer, 0.5)), p99: round(q(transfer, 0.99)) },
      reconnectMs: { p50: round(q(reconnect, 0.5)), p99: round(q(reconnect, 0.99)) },
      totalMs: { p50: round(q(total, 0.5)), p99: round(q(total, 0.99)) },
      /**
       * Issue target: migration ≤ one RTT + state transfer. Over TCP the floor is two RTTs (the
       * TCP handshake, then the hello/RESUMED exchange that carries the transfer), plus the event
       * loop's turns; `beyondTransfer` is what the migration costs on top of the transfer.
       */
      beyondTransferMs: { p50: round(q(beyond, 0.5), 3), p99: round(q(beyond, 0.99), 3) },
      beyondTransferRtts: { p50: round(q(beyond, 0.5) / rtt, 1), p99: round(q(beyond, 0.99) / rtt, 1) },
      withinOneRttShare: round(beyond.filter((b) => b <= rtt).length / n, 3),
      withinTwoRttShare: round(beyond.filter((b) => b <= 2 * rtt).length / n, 3),
    };
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}

/** A fixed 64 KiB chunk repeated: measures the kit's own cost without the generator's. */
const RAW = randomBytes(64 * 1024);

function rawKitHandler(session: MtcpSession): void {
  session.once('data', (c: Buffer) => {
    const req = parseStreamRequest(c.toString('latin1').trim());
    let left = req?.length ?? 0;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, RAW.length);
        left -= n;
        if (!session.write(RAW.subarray(0, n))) return void session.once('drain', pump);
      }
    };
    pump();
  });
}

function plainServer(raw: boolean): Server {
  return createServer((s: Socket) => {
    s.once('data', (c: Buffer) => {
      const req = parseStreamRequest(c.toString('latin1').trim())!;
      let off = 0;
      const pump = (): void => {
        while (off < req.length) {
          const n = Math.min(req.length - off, raw ? RAW.length : 16384);
          const buf = raw ? RAW.subarray(0, n) : streamBytes(req.seed, off, n);
          off += n;
          if (!s.write(buf)) return void s.once('drain', pump);
        }
      };
      pump();
    });
    s.on('error', () => {});
  });
}

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

async function throughputOverhead(raw: boolean, length: number, rounds: number): Promise<Record<string, unknown>> {
  const plain = plainServer(raw);
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
  const plainPort = (plain.address() as AddressInfo).port;
  const { pool, servers } = await startPool('memory', raw ? rawKitHandler : streamHandler({ chunkBytes: 16384 }));
  const without: number[] = [];
  const withKit: number[] = [];
  const withKitWhole: number[] = [];
  const kit = (streamData: boolean) => async () => {
    clientDecoderTuning.streamData = streamData;
    try {
      return await new MtcpClientConnection({ address: pool.members[0]!.address }).connect();
    } finally {
      clientDecoderTuning.streamData = true;
    }
  };
  try {
    // Interleaved rounds, so that load from elsewhere hits all sides alike.
    for (let i = 0; i < rounds; i++) {
      without.push(await timeRead(async () => {
        const s = connect({ host: '127.0.0.1', port: plainPort });
        await new Promise((r) => s.once('connect', r));
        return s;
      }, length));
      withKit.push(await timeRead(kit(true), length));
      withKitWhole.push(await timeRead(kit(false), length));
    }
  } finally {
    plain.close();
    await Promise.all(servers.map((s) => s.close()));
  }
  const a = q(without, 0.5);
  const b = q(withKit, 0.5);
  const c = q(withKitWhole, 0.5);
  return {
    generator: raw ? 'fixed 64 KiB chunk (kit cost alone)' : 'SHA-256 stream (the sample server)',
    bytesPerRound: length,
    rounds,
    withoutKitMBps: round(a / 1e6, 1),
    withKitMBps: round(b / 1e6, 1),
    overheadPct: round((100 * (a - b)) / a, 1),
    /** The client decoder reassembling DATA frames that span reads (before the streaming decoder). */
    withKitWholeFramesMBps: round(c / 1e6, 1),
    overheadWholeFramesPct: round((100 * (a - c)) / a, 1),
  };
}

export async function runMtcpBench(opts: { quick: boolean }): Promise<object> {
  const n = opts.quick ? 30 : 200;
  const lazy = await migrationLatency('memory', n);
  const eager = await migrationLatency('push', n);
  const sha = await throughputOverhead(false, opts.quick ? 16 << 20 : 64 << 20, opts.quick ? 3 : 5);
  const raw = await throughputOverhead(true, opts.quick ? 128 << 20 : 512 << 20, opts.quick ? 3 : 5);
  return {
    name: 'mtcp',
    migrationLatency: [lazy, eager],
    throughputOverhead: [sha, raw],
    targets: { migration: 'one RTT + state transfer', overheadPct: 10 },
  };
}
