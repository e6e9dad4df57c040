// CPU the relay spends per 1 KiB stream chunk with N throttled streams open (the migration
// figure's background load): tsmp proxy against the plain pipe relay, same source, same run.
//   node scripts/experiments/migration-p99/cpu-per-chunk.mjs [connections] [proxy flags...]
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPipeRelay, startSourceServer } from '../../../dist/bench/proxy/bench-processes.js';
import { stopAllChildren } from '../../../dist/bench/proxy/child-process.js';
import { dial, mapLimit } from '../../../dist/bench/proxy/socks-dial.js';
import { startTsmpProxy, BENCH_DEVICES, BENCH_UID } from '../../../dist/bench/proxy/tsmp-proxy.js';

const [conns = '1000', ...proxyArgs] = process.argv.slice(2);
const n = Number(conns);
const ticks = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
const dir = mkdtempSync(join(tmpdir(), 'tsmp-cpu-'));
try {
  const source = await startSourceServer({ streamChunk: 1024, streamIntervalMs: 100, timeoutMs: 15000 });
  const pipe = await startPipeRelay({ backendPort: source.port, timeoutMs: 15000 });
  const tsmp = await startTsmpProxy({ dir, extraArgs: proxyArgs, timeoutMs: 15000 });
  for (const [name, target, pid] of [
    ['pipe', { kind: 'pipe', port: pipe.port }, pipe.child.proc.pid],
    ['tsmp', { kind: 'tsmp', port: tsmp.port, user: `phone.${BENCH_UID}`, pass: BENCH_DEVICES.phone, host: '127.0.0.1', destPort: source.port }, tsmp.child.proc.pid],
  ]) {
    const sockets = [];
    let bytes = 0;
    await mapLimit(Array.from({ length: n }), 100, async () => {
      const { socket } = await dial(target, 15000);
      socket.write(Buffer.from([0x53]));
      socket.on("data", (d) => (bytes += d.length)); socket.resume();
      sockets.push(socket);
    });
    await sleep(1000);
    const c0 = ticks(pid), b0 = bytes, t0 = Date.now();
    await sleep(5000);
    const cpuMs = (ticks(pid) - c0) * 10, chunks = (bytes - b0) / 1024, secs = (Date.now() - t0) / 1000;
    console.log(`${name}: ${(chunks / secs).toFixed(0)} chunks/s, relay CPU ${(cpuMs / secs / 10).toFixed(1)} %, ${(cpuMs * 1000 / chunks).toFixed(1)} µs per chunk`);
    for (const s of sockets) s.destroy();
    await sleep(500);
  }
} finally {
  await stopAllChildren();
  rmSync(dir, { recursive: true, force: true });
}
