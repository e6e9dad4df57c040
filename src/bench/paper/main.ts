#!/usr/bin/env node
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { createLogger } from '../../common/logger.js';
import { accuracyMarkdown, measureAccuracy } from '../../netem/accuracy.js';
import { netemPreflight } from '../../netem/preflight.js';
import { openFilesHardLimit } from '../../netem/ns-process.js';
import { cleanupStale } from '../../netem/teardown.js';
import { PAPER_FIG4, PAPER_FIG5 } from './paper-reference.js';
import { resultsMarkdown, type PaperResults } from './report-markdown.js';
import { runMigration, runRangeAlternative, runSingle, type MigrationResult, type RunOptions } from './scenarios.js';
import { renderSvg } from './svg-plot.js';

/**
 * `npm run bench:paper [-- --quick]`: the paper's evaluation (section VI) on emulated links with
 * a real `tsmp proxy`: Table I, Figures 4 and 5, the lower bound, the server's TCP state, the
 * abort-and-Range alternative, and the emulator's own accuracy. Writes Markdown, JSON and SVG to
 * `--out` (docs/evaluation by default).
 */
const program = new Command()
  .name('bench:paper')
  .option('--quick', 'reduced sweep, under 3 minutes')
  .option('--out <dir>', 'where to write results', 'docs/evaluation')
  .option('--only <parts>', 'comma list of accuracy,table1,fig4,fig5', 'accuracy,table1,fig4,fig5')
  .option('--runs <n>', 'repetitions per sweep point (median reported)', '')
  .option('--bg-rate <bytes>', 'bytes per second each background connection carries', '256')
  .option('--fig5-points <list>', 'comma list of Figure 5 connection counts (overrides the default sweep)', '')
  .option('--max-connections <n>', 'largest Figure 5 point (the paper goes to 10000)', '10000')
  .option('--cc <name>', 'congestion control of Alice, the devices and the background hosts', 'bbr')
  .option('--proxy-cc <name>', 'congestion control of the proxy host', process.env.TSMP_BENCH_PROXY_CC ?? 'bbr')
  .option('--notsent-lowat <bytes>', 'the proxy host\'s net.ipv4.tcp_notsent_lowat (0: kernel default)', process.env.TSMP_BENCH_LOWAT ?? '16384')
  .option('--proxy <how>', 'cli: run `tsmp proxy`; lib: the proxy library (if the CLI cannot load)', 'cli')
  .parse(process.argv);
const opts = program.opts<{ fig5Points: string; cc: string; proxyCc: string; notsentLowat: string; quick?: boolean; out: string; only: string; runs: string; bgRate: string; proxy: string; maxConnections: string }>();
const log = createLogger('bench:paper');
const parts = new Set(opts.only.split(','));
const quick = Boolean(opts.quick);
const runs = Number(opts.runs || (quick ? 1 : 3));

const pre = await netemPreflight();
if (!pre.ok) {
  process.stderr.write(`bench:paper needs an emulated network: ${pre.reason}\n`);
  process.exit(2);
}
const stale = await cleanupStale();
if (stale.length) log.warn({ stale }, 'removed namespaces left by a crashed run');

const base: RunOptions = {
  rateKbit: 1000, background: 0, fileBytes: 800_000, proxyMaxBuffer: 65_536, proxySocketBuffer: 131_072,
  proxyReceiveBuffer: 32_768, backgroundBytesPerSec: Number(opts.bgRate), log,
  proxyLauncher: opts.proxy === 'lib' ? 'lib' : 'cli',
  congestionControl: opts.cc, proxyCongestionControl: opts.proxyCc, proxyNotsentLowat: Number(opts.notsentLowat),
};
const out = resolve(opts.out);
mkdirSync(out, { recursive: true });
const started = Date.now();

/** Median by delay of `runs` repetitions; a failed run is logged and left out. */
async function point(label: string, o: RunOptions): Promise<MigrationResult | null> {
  const got: MigrationResult[] = [];
  for (let i = 0; i < runs; i++) {
    try {
      got.push(await runMigration('wlan', 'wlan', o, false));
    } catch (err) {
      log.error({ err: (err as Error).message }, `${label} run ${i + 1} failed`);
    }
  }
  got.sort((a, b) => a.delayMs - b.delayMs);
  const r = got[Math.floor((got.length - 1) / 2)] ?? null;
  if (r) log.info({ label, delayMs: Math.round(r.delayMs), boundMs: Math.round(r.bound.totalMs) }, 'sweep point');
  return r;
}

const results: PaperResults = {
  quick, date: new Date().toISOString().slice(0, 10), fig5Cap: 0,
  table1: { single: [], migrations: [], alternatives: [] }, fig4: [], fig5: [],
};

function save(): void {
  if (!parts.has('table1') && !parts.has('fig4') && !parts.has('fig5')) return;
  writeFileSync(resolve(out, 'paper-results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(resolve(out, 'paper-results.md'), resultsMarkdown(results));
  const series = (rows: MigrationResult[], x: (r: MigrationResult) => number) => [
    { name: 'tsmp, measured', color: '#1f77b4', points: rows.map((r) => [x(r), r.delayMs] as [number, number]) },
    { name: 'lower bound', color: '#2ca02c', dashed: true, points: rows.map((r) => [x(r), r.bound.totalMs] as [number, number]) },
    { name: 'lower bound, signalling only', color: '#7f7f7f', dashed: true, points: rows.map((r) => [x(r), r.bound.signallingMs] as [number, number]) },
  ];
  if (results.fig4.length) {
    writeFileSync(resolve(out, 'fig4-delay-vs-bandwidth.svg'), renderSvg({
      title: 'Migration delay vs device bandwidth (WLAN→WLAN, 100 background connections)', xLabel: 'device bandwidth (kbit/s)', yLabel: 'migration delay (ms)',
      series: [...series(results.fig4, (r) => r.rateKbit), ...(PAPER_FIG4.length ? [{ name: 'paper (ns-2)', color: '#d62728', points: PAPER_FIG4 }] : [])],
    }));
  }
  if (results.fig5.length) {
    writeFileSync(resolve(out, 'fig5-delay-vs-connections.svg'), renderSvg({
      title: 'Migration delay vs concurrent connections at the proxy (WLAN→WLAN, 1 Mbit/s)', xLabel: 'concurrent connections (log scale)', yLabel: 'migration delay (ms)', xLog: true,
      series: [...series(results.fig5, (r) => Math.max(1, r.background)), ...(PAPER_FIG5.length ? [{ name: 'paper (ns-2)', color: '#d62728', points: PAPER_FIG5 }] : [])],
    }));
  }
}

if (parts.has('accuracy')) {
  const acc = await measureAccuracy({ quick });
  writeFileSync(resolve(out, 'netem-accuracy.md'), `# Accuracy of the emulated links\n\nGenerated by \`npm run bench:paper${quick ? ' -- --quick' : ''}\`; see docs/netem.md.\n\n${accuracyMarkdown(acc)}`);
  log.info('accuracy measured');
}

if (parts.has('table1')) {
  for (const a of ['wlan', '3g'] as const) results.table1.single.push(await runSingle(a, base));
  for (const [f, t] of [['wlan', 'wlan'], ['wlan', '3g'], ['3g', 'wlan']] as const) {
    try {
      results.table1.migrations.push(await runMigration(f, t, base, true));
    } catch (err) {
      log.error({ err: (err as Error).message }, `${f}→${t} failed`);
    }
    // --quick keeps one no-tsmp comparison, the cheapest, to stay under 3 minutes.
    if (!quick || (f === 'wlan' && t === 'wlan')) results.table1.alternatives.push(await runRangeAlternative(f, t, base));
  }
  log.info('table I done');
  save();
}

if (parts.has('fig4')) {
  for (const rate of quick ? [200, 1200] : [200, 400, 600, 800, 1000, 1200]) {
    const r = await point(`${rate} kbit/s`, { ...base, rateKbit: rate, background: 100 });
    if (r) results.fig4.push(r);
  }
  save();
}

if (parts.has('fig5')) {
  // Two descriptors per relayed connection in one proxy process, plus headroom.
  // Two descriptors per relayed connection in one proxy process, plus headroom; beyond that,
  // `--workers` (each worker process has its own limit). The lib launcher has no workers.
  const perProcess = Math.floor((openFilesHardLimit() - 400) / 2);
  const maxWorkers = base.proxyLauncher === 'lib' ? 1 : 4;
  results.fig5Cap = Math.min(perProcess * maxWorkers, Number(opts.maxConnections));
  const sweep = opts.fig5Points ? opts.fig5Points.split(',').map(Number) : quick ? [10, 1000] : [10, 50, 100, 500, 1000, 2000, 5000, 10_000];
  const counts = sweep
    .filter((n) => n <= Number(opts.maxConnections)).map((n) => Math.min(n, results.fig5Cap));
  for (const n of [...new Set(counts)]) {
    const proxyWorkers = Math.ceil(n / perProcess);
    const r = await point(`${n} connections`, { ...base, background: n, proxyWorkers });
    if (r) results.fig5.push({ ...r, proxyWorkers });
  }
}

save();
process.stdout.write(`bench:paper done in ${((Date.now() - started) / 1000).toFixed(0)} s; results in ${out}\n`);
