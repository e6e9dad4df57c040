// Connection rate only (the proxy bench's third figure), for same-run experiments on the proxy's
// per-connection cost. Starts the source server, the load generator, haproxy, the pipe relay and
// one tsmp proxy per --variant, then measures connections/s for every relay in rounds, rotated so
// that no relay always goes first (as measure-relay.ts does), and reads each relay's CPU time
// (utime + stime over its process tree, /proc/PID/stat) around each call.
//
//   node scripts/experiments/conn-rate/run.mjs [--rounds 3] [--duration 1000] [--concurrency 64]
//     [--variant LABEL=DISTDIR[:proxy flags]]... [--warmup MS] [--pipelined] [--gc] [--threads]
//     [--metrics] [--prof DIR] [--perf DIR] [--snapshot] [--no-pipe]
//
// DISTDIR is a built copy of dist/ (e.g. a snapshot of the code before a change) so that before
// and after run side by side, or "@script.mjs" for a reference relay (min-socks.mjs). In the
// flags, "node=--flag" goes to node and "env=K=V" into the proxy's environment. --warmup MS:
// uncounted load per relay first (JIT warm-up); --gc: collections per measurement (--trace-gc);
// --threads: CPU per thread; --metrics: the proxy's /metrics half way through; --prof DIR:
// --cpu-prof; --perf DIR: `perf record` of the last round; --snapshot: a heap snapshot into
// /tmp/crsnap half way through the last round. Helpers: profile-top.mjs (a .cpuprofile by
// function and file), snapshot-counts.mjs (a heap snapshot by constructor).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLoadGenerator, startPipeRelay, startSourceServer } from '../../../dist/bench/proxy/bench-processes.js';
import { BenchChild, effectiveNofile, stopAllChildren } from '../../../dist/bench/proxy/child-process.js';
import { haproxyMaxconn, startHaproxy } from '../../../dist/bench/proxy/haproxy.js';
import { processTree } from '../../../dist/bench/proxy/process-rss.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '64' },
    variant: { type: 'string', multiple: true, default: ['tsmp=dist'] },
    prof: { type: 'string' },
    pipelined: { type: 'boolean', default: false },
    warmup: { type: 'string', default: '300' },
    'no-pipe': { type: 'boolean', default: false },
    threads: { type: 'boolean', default: false },
    perf: { type: 'string' },
    gc: { type: 'boolean', default: false },
    metrics: { type: 'boolean', default: false },
    snapshot: { type: 'boolean', default: false },

  },
});
const T = 15_000;
const UID = 'bench@example.org';
const TOKEN = 'bench-phone-token-0123456789';
const CLK = 100; // sysconf(_SC_CLK_TCK) on Linux

/** utime + stime of a process tree, seconds. */
function treeCpu(pid) {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const s = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return ticks / CLK;
}

/** utime + stime per thread name over a process tree, ticks: where a relay's CPU goes besides its main thread. */
function threadTicks(pid) {
  const out = new Map();
  for (const p of processTree(pid)) {
    let tids = [];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tids) {
      try {
        const s = readFileSync(`/proc/${p}/task/${t}/stat`, 'utf8');
        const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')).replace(/[0-9]+$/, '#');
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        const key = `${comm}${t === String(p) ? ' (main)' : ''}`;
        const v = out.get(key) ?? { user: 0, sys: 0 };
        v.user += Number(f[11]);
        v.sys += Number(f[12]);
        out.set(key, v);
      } catch {
        // gone
      }
    }
  }
  return out;
}

async function startTsmp(label, distDir, flags, dir, nodeFlags, extraEnv) {
  let control;
  const users = join(dir, 'users.json');
  writeFileSync(users, JSON.stringify({ [UID]: { phone: TOKEN } }));
  // DISTDIR "@file.mjs": a reference relay script that speaks the same SOCKS5 (min-socks.mjs).
  const script = distDir.startsWith('@');
  const main = script ? resolve(distDir.slice(1)) : resolve(distDir, 'cli/main.js');
  const child = new BenchChild({
    name: `tsmp ${label}`,
    command: process.execPath,
    args: [...nodeFlags, ...(values.snapshot ? ['--heapsnapshot-signal=SIGUSR2', '--diagnostic-dir=/tmp/crsnap'] : []), ...(values.gc ? ['--trace-gc'] : []), ...(values.perf ? ['--perf-basic-prof'] : []), ...(values.prof ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values.prof)}`] : []), main, ...(script ? [] : ['proxy', '--listen', '127.0.0.1:0', '--control', '127.0.0.1:0', '--users', users]), ...flags],
    env: { ...process.env, TSMP_LOG: 'warn', ...extraEnv },
  });
  const port = await child.waitForLine((l) => {
    const m = /devices on [^\s,]*:(\d+)(?:, control API on (http:\/\/[^\s]+:\d+))?/.exec(l);
    return m ? { port: Number(m[1]), control: m[2] } : undefined;
  }, 'its port', T).then((b) => { control = b.control; return b.port; });
  // --gc: count the collections --trace-gc reports (one stdout line each), per measurement.
  const gc = { scavenge: 0, markCompact: 0, ms: 0 };
  child.stdoutLines.on('line', (l) => {
    if (process.env.SHOW_LINES && new RegExp(process.env.SHOW_LINES).test(l)) console.log(`  ${label}: ${l.trim()}`);
    const m = /(Scavenge|Mark-Compact|Mark-sweep)[^,]*, ([\d.]+) \/ [\d.]+ ms/.exec(l);
    if (!m) return;
    if (m[1] === 'Scavenge') {
      gc.scavenge++;
      if (process.env.SHOW_SC) console.log(`  ${label}: ${l.trim().slice(0, 140)}`);
    }
    else {
      gc.markCompact++;
      if (process.env.SHOW_MC) console.log(`  ${label}: ${l.trim()}`);
    }
    gc.ms += Number(m[2]);
  });
  return { child, port, gc, control };
}

const dir = mkdtempSync(join(tmpdir(), 'tsmp-rate-'));
try {
  const nofile = effectiveNofile();
  const source = await startSourceServer({ streamChunk: 1024, streamIntervalMs: 100, timeoutMs: T });
  const { rpc: load, child: loadChild } = await startLoadGenerator(T);
  const haproxy = await startHaproxy({ backendPort: source.port, threads: 2, dir, timeoutMs: T, maxconn: haproxyMaxconn(nofile) });
  const relays = [{ label: 'haproxy', child: haproxy.child, target: { kind: 'haproxy', port: haproxy.port } }];
  if (!values['no-pipe']) {
    const pipe = await startPipeRelay({ backendPort: source.port, timeoutMs: T });
    relays.push({ label: 'pipe', child: pipe.child, target: { kind: 'pipe', port: pipe.port } });
  }
  for (const v of values.variant) {
    const label = v.slice(0, v.indexOf('='));
    const rest = v.slice(v.indexOf('=') + 1);
    const [distDir, ...flagParts] = rest.split(':');
    // Flags written "node=--flag" go to node itself (e.g. node=--max-semi-space-size=32), the rest to the proxy.
    const all = flagParts.join(':').split(' ').filter(Boolean);
    const flags = all.filter((f) => !f.startsWith('node=') && !f.startsWith('env='));
    const env = Object.fromEntries(all.filter((f) => f.startsWith('env=')).map((f) => f.slice(4).split('=')));
    const nodeFlags = all.filter((f) => f.startsWith('node=')).map((f) => f.slice(5));
    const vdir = mkdtempSync(join(dir, `${label}-`));
    const t = await startTsmp(label, distDir, flags, vdir, nodeFlags, env);
    relays.push({
      label, child: t.child, gc: t.gc, control: t.control,
      target: { kind: 'tsmp', port: t.port, user: `phone.${UID}`, pass: TOKEN, host: '127.0.0.1', destPort: source.port, pipelined: values.pipelined },
    });
  }
  const opts = { concurrency: Number(values.concurrency), durationMs: Number(values.duration) };
  // Warm-up: JIT and pools of every relay, not counted.
  const warmupMs = Number(values.warmup);
  for (const r of relays) await load.call('rate', { target: r.target, concurrency: opts.concurrency, durationMs: warmupMs, timeoutMs: T }, warmupMs + 3 * T);
  const out = Object.fromEntries(relays.map((r) => [r.label, { perSecond: [], cpuPer1000: [], othersPer1000: [], errors: 0 }]));
  const loads = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    loads.push(Number(loadavg()[0].toFixed(2)));
    for (let i = 0; i < relays.length; i++) {
      const r = relays[(round + i) % relays.length];
      const c0 = treeCpu(r.child.pid);
      const o0 = treeCpu(loadChild.pid) + treeCpu(source.child.pid);
      const gc0 = r.gc ? { ...r.gc } : null;
      const th0 = values.threads ? threadTicks(r.child.pid) : null;
      // --perf DIR: `perf record` (cpu-clock, call graphs) of each tsmp variant's last round, kernel included.
      let perf;
      if (values.perf && r.target.kind === 'tsmp' && round === Number(values.rounds) - 1) {
        perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-g', '-o', join(resolve(values.perf), `${r.label}.data`), '-p', processTree(r.child.pid).join(',')], { stdio: 'ignore' });
        await sleep(300);
      }
      // --metrics: the proxy's own count of connections by state, half way through the measurement.
      const peek = values.metrics && r.control
        ? sleep(opts.durationMs / 2).then(() => fetch(`${r.control}/metrics`, { headers: { authorization: `Basic ${Buffer.from(`phone.${UID}:${TOKEN}`).toString('base64')}` } }))
            .then((x) => x.text()).then((t) => t.split('\n').filter((l) => /^tsmp_proxy_(connections\{|front_pending|handshakes)/.test(l)).join('; '))
            .catch((e) => String(e))
        : null;
      // --snapshot: a heap snapshot of each tsmp variant (SIGUSR2, node --heapsnapshot-signal) half way through its last round.
      if (values.snapshot && r.target.kind === 'tsmp' && round === Number(values.rounds) - 1) {
        void sleep(opts.durationMs / 2).then(() => process.kill(r.child.pid, 'SIGUSR2'));
      }
      const res = await load.call('rate', { target: r.target, ...opts, timeoutMs: T }, opts.durationMs + 3 * T);
      const c1 = treeCpu(r.child.pid);
      if (peek) console.log(`  ${r.label} round ${round}: mid-round metrics: ${await peek}`);
      if (gc0 && values.gc) {
        console.log(`  ${r.label} round ${round}: ${res.completed} connections; scavenges ${r.gc.scavenge - gc0.scavenge}, mark-compacts ${r.gc.markCompact - gc0.markCompact}, GC pause ${(r.gc.ms - gc0.ms).toFixed(1)} ms`);
      }
      if (perf) {
        perf.kill('SIGINT');
        await new Promise((done) => perf.once('exit', done));
      }
      const o1 = treeCpu(loadChild.pid) + treeCpu(source.child.pid);
      out[r.label].othersPer1000.push(Number(((1000 * (o1 - o0)) / Math.max(1, res.completed)).toFixed(3)));
      if (th0) {
        const parts = [];
        for (const [k, v] of threadTicks(r.child.pid)) {
          const b = th0.get(k) ?? { user: 0, sys: 0 };
          const u = v.user - b.user, sy = v.sys - b.sys;
          if (u + sy > 0) parts.push(`${k} u${u}+s${sy}`);
        }
        console.log(`  ${r.label} round ${round}: ${res.completed} connections; ticks per thread over ${res.completed} connections: ${parts.join(', ')}`);
      }
      out[r.label].perSecond.push(Math.round(res.perSecond));
      out[r.label].cpuPer1000.push(Number(((1000 * (c1 - c0)) / Math.max(1, res.completed)).toFixed(3)));
      out[r.label].errors += res.errors;
      await sleep(200);
    }
  }
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const h = out.haproxy.perSecond;
  console.log(`load at each round: ${loads.join(', ')}; ${opts.concurrency} in flight, ${opts.durationMs} ms per measurement${values.pipelined ? ', pipelined handshake' : ''}`);
  for (const [label, o] of Object.entries(out)) {
    const paired = o.perSecond.map((v, i) => v / h[i]);
    console.log(
      `${label.padEnd(12)} conn/s ${o.perSecond.join(' / ').padEnd(22)} median ${String(median(o.perSecond)).padStart(5)}  ` +
        `×haproxy ${(median(o.perSecond) / median(h)).toFixed(2)} (paired ${median(paired).toFixed(2)})  ` +
        `CPU s/1000 conn ${o.cpuPer1000.join(' / ')} (median ${median(o.cpuPer1000)}); load generator + source server ${median(o.othersPer1000)}  errors ${o.errors}`,
    );
  }
} finally {
  await stopAllChildren();
  rmSync(dir, { recursive: true, force: true });
}
