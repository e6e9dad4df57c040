import type { MigrationFigure } from './measure-migration.js';
import type { RelayFigure } from './measure-relay.js';
import type { Maybe, ProxyBenchResult } from './proxy-bench.js';

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const mb = (bytesPerSecond: number) => fmt(bytesPerSecond / 1e6, 0);
const ok = <T extends object>(v: Maybe<T>): v is T => !('error' in v);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function relayRow(name: string, fig: Maybe<RelayFigure> | undefined, show: (x: number) => string): string[] {
  if (!fig) return [name, 'not measured'];
  if (!ok(fig)) return [name, 'error (below)'];
  const pipe = fig.median.pipe;
  return [
    name,
    show(fig.median.direct),
    show(fig.median.haproxy),
    show(fig.median.tsmp),
    `${fmt(fig.ratioToHaproxy.tsmp, 2)}× (paired ${fmt(fig.pairedRatioTsmp, 2)}×)`,
    `${fmt(fig.ratioToHaproxy.direct, 2)}×`,
    pipe === undefined ? '' : `${show(pipe)} (${fmt(fig.ratioToHaproxy.pipe ?? NaN, 2)}×)`,
  ];
}

function migrationRows(m: Maybe<MigrationFigure>, label = 'migration'): string[][] {
  if (!ok(m)) return [[label, 'error (below)']];
  const d = (x: { medianP50: number; medianP99: number }) => `p50 ${fmt(x.medianP50, 2)} / p99 ${fmt(x.medianP99, 2)} ms`;
  const q = (x: { p50: number; p99: number }) => `p50 ${fmt(x.p50, 2)} / p99 ${fmt(x.p99, 2)} ms`;
  const b = m.background;
  const bg = `, each stream ${fmt(b.chunkBytes / 1024, 0)} KiB every ${fmt(b.intervalMs, 0)} ms = ${fmt(b.bytesPerSecond / 1e6, 1)} MB/s`;
  return [
    [`${label} (${m.rounds}×${m.migrations}, ${m.connectionsOpen} open${bg}, SOCKS5 ${m.pipelinedAttach ? 'pipelined' : '3 round trips'}): connect → first replayed byte`, '', '', d(m.connectToFirstByteMs)],
    [`${label}: connect → server read again`, '', '', d(m.connectToResumeMs)],
    [`${label}: of which the proxy cutover (attach → read again)`, '', '', d(m.attachToResumeMs)],
    [`${label}: migrate request → server read again`, '', '', d(m.requestToResumeMs)],
    [`${label}: proxy's run-queue wait per migration (CPU owed, not given)`, '', '', q(m.runQueue.proxyWaitMs)],
    [`${label}: connect → first byte less that wait`, '', '', q(m.runQueue.connectToFirstByteLessProxyWaitMs)],
    [`${label}: … less the proxy's and the generator's waits`, '', '', q(m.runQueue.connectToFirstByteLessBothWaitsMs)],
  ];
}

/** The table `npm run bench` prints: absolute figures (medians) and ratios to haproxy. */
export function formatProxyReport(r: ProxyBenchResult): string {
  const c = r.config;
  const rows: string[][] = [['figure', 'direct', 'haproxy', 'tsmp', 'tsmp/haproxy', 'direct/haproxy', 'pipe relay (reference)']];
  for (const n of c.bulkConnections) {
    rows.push(relayRow(`bulk, ${n} connection${n === 1 ? '' : 's'} (MB/s)`, r.throughput[String(n)], mb));
  }
  rows.push(relayRow(`connections/s (${c.rateConcurrency} in flight)`, r.connectionRate, (x) => fmt(x, 0)));
  rows.push(...migrationRows(r.migration));
  if (r.migrationLight) rows.push(...migrationRows(r.migrationLight, 'light (not judged)'));
  if (ok(r.rss)) {
    const kib = (b: number) => fmt(b / 1024, 1);
    rows.push([`RSS per idle connection at ${r.rss.tsmp.connections} (KiB)`, '', kib(r.rss.haproxy.bytesPerConnection), kib(r.rss.tsmp.bytesPerConnection), `${fmt(r.rss.ratioToHaproxy, 2)}×`]);
  } else {
    rows.push(['RSS per idle connection', 'error (below)']);
  }
  const lines = [
    `proxy benchmark${c.quick ? ' (--quick)' : ''}: medians of ${c.repeats} interleaved rounds (migrations: p50/p99 per round, median of ${c.migrationRounds} rounds)`,
    `machine: ${r.host.cpus} CPUs, load average ${r.host.loadavgBefore.map((x) => x.toFixed(1)).join(' ')} at the start, ${r.host.loadavgAfter.map((x) => x.toFixed(1)).join(' ')} at the end`,
    `haproxy: ${r.haproxy.version}, TCP mode, nbthread ${r.haproxy.threads}`,
    `tsmp: node dist/cli/main.js ${r.tsmp.command.join(' ')}${c.proxyArgs.length ? `   (extra proxy args: ${c.proxyArgs.join(' ')})` : '   (no extra proxy args)'}`,
    '',
    table(rows),
    '',
    'pipe relay (reference): a plain Node socket.pipe relay, one process; not a target, it shows what Node itself costs here.',
  ];
  const errors = [
    ...Object.entries(r.throughput).map(([n, f]) => [`bulk ${n}`, f] as const),
    ['connections/s', r.connectionRate] as const,
    ['migration', r.migration] as const,
    ...(r.migrationLight ? [['migration, light background', r.migrationLight] as const] : []),
    ['RSS', r.rss] as const,
  ].filter(([, f]) => 'error' in f);
  for (const [name, f] of errors) lines.push(`error in ${name}: ${(f as { error: string }).error}`);
  if (ok(r.rss) && r.rss.note) lines.push('', `note: RSS ${r.rss.note}`);
  if (ok(r.migration)) {
    const m = r.migration;
    lines.push('', `migrations: ${m.samples.length} done, ${m.failed} failed, ${m.migrationsWithReplay} replayed cached bytes; bytes checked: ${m.wrongBytes} wrong, ${m.offsetMismatches} offset mismatches`);
  }
  if (r.migrationLight && ok(r.migrationLight)) {
    const m = r.migrationLight;
    lines.push(`light background: ${m.samples.length} done, ${m.failed} failed; bytes checked: ${m.wrongBytes} wrong, ${m.offsetMismatches} offset mismatches (reported, not judged)`);
  }
  if (ok(r.migration)) {
    lines.push(`run-queue wait: summed over the proxy's processes' main threads from each migrate request to its answer (/proc/PID/task/PID/schedstat); "less that wait" is a lower bound with --workers (three processes' waits, one migration's latency)`);
  }
  if (ok(r.connectionRate) && r.connectionRate.warmup) {
    const w = r.connectionRate.warmup;
    const cold = w.perSecond.haproxy > 0 ? `${fmt(w.perSecond.tsmp / w.perSecond.haproxy, 2)}×` : 'n/a';
    lines.push(`connections/s: counted after an uncounted ${fmt(w.durationMs / 1000, 0)} s warm-up round per path (JIT); in that cold round tsmp/haproxy was ${cold}`);
  }
  if (ok(r.connectionRate) && r.connectionRate.errors) {
    const e = r.connectionRate.errors;
    if (e.direct + e.haproxy + e.tsmp + (e.pipe ?? 0) > 0) {
      lines.push(`connection errors: direct ${e.direct}, haproxy ${e.haproxy}, tsmp ${e.tsmp}, pipe relay ${e.pipe ?? 0}`);
    }
  }
  for (const n of c.bulkConnections) {
    const f = r.throughput[String(n)];
    const u = f && ok(f) ? f.unclosed : undefined;
    if (u && u.direct + u.haproxy + u.tsmp > 0) lines.push(`bulk ${n}: connections not closed after the client's FIN: direct ${u.direct}, haproxy ${u.haproxy}, tsmp ${u.tsmp}`);
  }
  lines.push('', 'targets:');
  for (const t of r.targets) {
    const v = t.value === null ? 'n/a' : t.goal.includes('ms') ? `${fmt(t.value, 2)} ms` : `${fmt(t.value, 2)}×`;
    lines.push(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${v} (goal ${t.goal})`);
  }
  return lines.join('\n');
}
