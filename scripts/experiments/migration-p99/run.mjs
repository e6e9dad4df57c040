// Migration latency only (the proxy bench's fourth figure), for quick same-machine experiments:
//   node scripts/experiments/migration-p99/run.mjs [connections] [migrations] [rounds] [proxy flags...]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
if (process.env.PIN) execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });

// CPU seconds of every descendant, sampled every 250 ms (the proxy is stopped before we could ask).
const cpu = new Map();
const sampler = setInterval(() => {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.split(') ')[1].split(' ');
      if (Number(f[1]) !== process.pid && !cpu.has(Number(f[1]))) continue; // ppid: ours or our child's
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a.includes('main') || a === 'proxy').slice(-2).join(' ');
      const secs = (Number(f[11]) + Number(f[12])) / 100;
      const prev = cpu.get(Number(pid));
      if (process.env.PROXY_NICE && !cpu.has(Number(pid)) && cmd.includes('proxy')) execFileSync('renice', ['-n', process.env.PROXY_NICE, '-p', pid], { stdio: 'ignore' });
      if (process.env.PIN && !cpu.has(Number(pid))) {
        const core = cmd.includes('proxy') ? '1' : '0';
        execFileSync('taskset', ['-a', '-p', '-c', core, pid], { stdio: 'ignore' });
      }
      let wait = 0;
      try { for (const t of readdirSync(`/proc/${pid}/task`)) wait += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[1]) / 1e9; } catch {}
      cpu.set(Number(pid), { cmd, secs, first: prev?.first ?? secs, since: prev?.since ?? Date.now(), last: Date.now(), wait, wait0: prev?.wait0 ?? wait });
    } catch {}
  }
}, 250);

import { startLoadGenerator, startSourceServer } from '../../../dist/bench/proxy/bench-processes.js';
import { measureMigration } from '../../../dist/bench/proxy/measure-migration.js';
import { stopAllChildren } from '../../../dist/bench/proxy/child-process.js';

const [conns = '1000', migs = '200', rounds = '2', ...proxyArgs] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'tsmp-mig-'));
try {
  const source = await startSourceServer({ streamChunk: 1024, streamIntervalMs: Number(process.env.STREAM_MS ?? 100), timeoutMs: 15000 });
  const { rpc: load } = await startLoadGenerator(15000);
  const load0 = loadavg()[0];
  const f = await measureMigration({ load, dir, proxyArgs, sourcePort: source.port, stream: { chunkBytes: 1024, intervalMs: Number(process.env.STREAM_MS ?? 100) }, connections: +conns, migrations: +migs, rounds: +rounds, timeoutMs: 15000, pipelinedAttach: true });
  const slow = f.samples.filter((s) => s.phasesMs).sort((a, b) => b.connectToResumeMs - a.connectToResumeMs).slice(0, 6);
  console.log(JSON.stringify({ load0, proxyArgs, failed: f.failed, wrong: f.wrongBytes, mism: f.offsetMismatches,
    c2first: { p50: f.connectToFirstByteMs.medianP50, p99: f.connectToFirstByteMs.medianP99, rounds: f.connectToFirstByteMs.rounds },
    cutover: { p50: f.attachToResumeMs.medianP50, p99: f.attachToResumeMs.medianP99 } }));
  for (const s of slow) console.log(JSON.stringify(s));
  // Of each migration, the proxy's run-queue wait against its latency (connect → first byte).
  const q = (a, p) => { a = [...a].sort((x, y) => x - y); return a[Math.min(a.length - 1, Math.floor(p * a.length))]; };
  const all = f.samples;
  const over5 = all.filter((s) => s.connectToFirstByteMs > 5);
  console.log(JSON.stringify({ n: all.length, over5: over5.length,
    proxyWait: { p50: q(all.map((s) => s.proxyRunQueueWaitMs), 0.5), p99: q(all.map((s) => s.proxyRunQueueWaitMs), 0.99) },
    clientWait: { p50: q(all.map((s) => s.clientRunQueueWaitMs), 0.5), p99: q(all.map((s) => s.clientRunQueueWaitMs), 0.99) },
    latencyMinusProxyWait: { p50: q(all.map((s) => s.connectToFirstByteMs - s.proxyRunQueueWaitMs), 0.5), p99: q(all.map((s) => s.connectToFirstByteMs - s.proxyRunQueueWaitMs), 0.99) },
    slowWithWaitOverHalf: over5.filter((s) => s.proxyRunQueueWaitMs + s.clientRunQueueWaitMs >= s.connectToFirstByteMs / 2).length }));
  clearInterval(sampler);
  for (const [pid, c] of cpu) if (c.secs > 0.2) console.log(`cpu ${pid} ${c.cmd}: ${c.secs.toFixed(2)} s, ${(100 * (c.secs - c.first) / ((c.last - c.since) / 1000)).toFixed(0)} % while sampled, run-queue wait ${(c.wait - c.wait0).toFixed(2)} s`);
} finally {
  await stopAllChildren();
  rmSync(dir, { recursive: true, force: true });
}
