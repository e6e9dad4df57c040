import { randomBytes, createHash } from 'node:crypto';
import { MtcpClientConnection } from '../mtcp/client/client-connection.js';
import { MtcpServer } from '../mtcp/server/mtcp-server.js';
import { parsePoolConfig } from '../mtcp/server/pool-config.js';
import { streamHandler } from '../mtcp/examples/stream-server.js';
import { expectedStreamHash, formatStreamRequest } from '../mtcp/examples/stream-protocol.js';
import { runDegradingScenario } from '../mtcp/examples/degrading-scenario.js';

/**
 * `tsmp demo mtcp` (the lead wires the command): a pool of 3 stream servers with eager push; a
 * migration-aware client (the role the proxy plays for legacy clients) streams while the serving
 * member is migrated on demand and then dies; the bytes are checked against the expected SHA-256
 * sequence. Then the degrading-server comparison, policy off and on. Returns true on success.
 */
export async function runMtcpDemo(out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<boolean> {
  const pool = parsePoolConfig({ key: randomBytes(24).toString('hex'), members: ['s1', 's2', 's3'].map((id) => ({ id, address: '127.0.0.1:0' })), store: 'push' });
  const servers = new Map<string, MtcpServer>();
  try {
    for (const m of pool.members) {
      const s = new MtcpServer({ pool, id: m.id, handler: streamHandler({ rate: 1_000_000 }) });
      m.address = await s.listen();
      servers.set(m.id, s);
    }
    out(`pool: ${pool.members.map((m) => `${m.id}=${m.address}`).join(' ')} (eager push between members)`);
    const conn = await new MtcpClientConnection({ address: pool.members[0]!.address }).connect();
    conn.on('migrated', (r) => out(`  migrated ${r.from} → ${r.to} (${r.trigger}${r.reason ? `: ${r.reason}` : ''}): state ${r.transfer?.source} in ${r.transfer?.ms.toFixed(1)} ms, resumed after ${r.timings.resumeMs} ms at byte ${r.outOffset}`));
    const length = 1_500_000;
    out(`client: STREAM demo ${length} on ${conn.member} (1 MB/s)`);
    const h = createHash('sha256');
    let got = 0;
    const done = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('stream did not finish in 20 s')), 20_000);
      conn.on('data', (c: Buffer) => {
        h.update(c);
        got += c.length;
        if (got >= length) (clearTimeout(t), resolve());
      });
      conn.on('error', (e) => (clearTimeout(t), reject(e)));
    });
    conn.write(formatStreamRequest({ seed: 'demo', length }));
    await new Promise((r) => setTimeout(r, 400));
    out(`on demand: migrate to s2 at byte ${conn.bytesReceived}`);
    await conn.migrate('s2');
    await new Promise((r) => setTimeout(r, 400));
    out(`failure: member ${conn.member} dies at byte ${conn.bytesReceived}`);
    await servers.get(conn.member)!.close();
    await done;
    const ok = got === length && h.digest('hex') === expectedStreamHash('demo', length);
    out(`client received ${got} bytes; SHA-256 ${ok ? 'matches' : 'DOES NOT match'} the expected sequence`);
    conn.destroy();
    out('degrading servers (each member slows down the longer it serves a connection):');
    const off = await runDegradingScenario({ policy: false });
    const on = await runDegradingScenario({ policy: true });
    const kB = (x: number): string => `${(x / 1000).toFixed(0)} kB/s`;
    out(`  policy off: ${kB(off.throughput)} (one member's profile mean over the run: ${kB(off.profileMeanOverRun)})`);
    out(`  policy on (migrate below 60% of the best seen): ${kB(on.throughput)}, ${on.migrations} migrations (profile mean between migrations: ${kB(on.profileMeanBetweenMigrations)}; peak ${kB(on.peak)})`);
    return ok && on.throughput > off.throughput;
  } finally {
    await Promise.all([...servers.values()].map((s) => s.close().catch(() => {})));
  }
}
