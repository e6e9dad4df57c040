/**
 * The two servers the M-TCP throughput-overhead figure compares, serving the same bytes: a plain
 * `net` server and a pool of kit members (docs/mtcp.md, "Throughput overhead"). Both answer one
 * `STREAM <seed> <length>` line with the sample service's SHA-256 stream, or (`raw`) with a fixed
 * 64 KiB chunk repeated, which leaves only the kit's own cost.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { MtcpServer } from '../mtcp/server/mtcp-server.js';
import { parsePoolConfig, type PoolConfig } from '../mtcp/server/pool-config.js';
import type { MtcpSession } from '../mtcp/server/session-types.js';
import { streamHandler } from '../mtcp/examples/stream-server.js';
import { parseStreamRequest, streamBytes } from '../mtcp/examples/stream-protocol.js';

const RAW = randomBytes(64 * 1024);

/** A pool of three kit members on ephemeral loopback ports, in this process. */
export async function startPool(store: string, handler: (s: MtcpSession) => void): Promise<{ pool: PoolConfig; servers: MtcpServer[] }> {
  const pool = parsePoolConfig({ key: randomBytes(24).toString('hex'), members: ['b1', 'b2', 'b3'].map((id) => ({ id, address: '127.0.0.1:0' })), store });
  const servers: MtcpServer[] = [];
  for (const m of pool.members) {
    const s = new MtcpServer({ pool, id: m.id, handler });
    m.address = await s.listen();
    servers.push(s);
  }
  return { pool, servers };
}

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

/** Both servers for one generator; `close` stops them. */
export async function startOverheadServers(raw: boolean): Promise<{ plainAddress: string; kitAddress: string; close(): Promise<void> }> {
  const plain = plainServer(raw);
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
  const { pool, servers } = await startPool('memory', raw ? rawKitHandler : streamHandler({ chunkBytes: 16384 }));
  const port = (plain.address() as { port: number }).port;
  return {
    plainAddress: `127.0.0.1:${port}`,
    kitAddress: pool.members[0]!.address,
    close: async () => {
      plain.close();
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
