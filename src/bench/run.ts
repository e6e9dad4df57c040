/**
 * `npm run bench`: the project's benchmarks, one after the other, with one JSON file per run
 * under bench/results/ (plus latest.json).
 *
 *   npm run bench -- [--quick] [--only proxy|names|mtcp[,…]] [--proxy-args "--flag value"]
 *
 * The proxy benchmark lives in bench/proxy/. The name-server and M-TCP benchmarks are other
 * parts' modules, loaded only if they are there (`runNamesBench`, `runMtcpBench`); a missing or
 * failing one is skipped with one line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { proxyBenchConfig } from './proxy/bench-config.js';
import { formatProxyReport } from './proxy/report.js';
import { runProxyBench } from './proxy/proxy-bench.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, '../../bench/results');
const BENCHES = ['proxy', 'names', 'mtcp'] as const;
type BenchName = (typeof BENCHES)[number];

/** Other parts' benches: module (relative to this file) and the function it exports. */
const OPTIONAL: Record<Exclude<BenchName, 'proxy'>, { module: string; fn: string }> = {
  names: { module: './names-bench.js', fn: 'runNamesBench' },
  mtcp: { module: './mtcp-bench.js', fn: 'runMtcpBench' },
};

/**
 * `--proxy-args "--workers 2"`: parseArgs refuses a value that starts with a dash unless it is
 * joined with `=`, so the separate form the docs show is joined here first.
 */
function joinProxyArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--proxy-args' && i + 1 < argv.length) out.push(`--proxy-args=${argv[++i]}`);
    else out.push(argv[i]!);
  }
  return out;
}

function parseCli(argv: string[]) {
  const { values } = parseArgs({
    args: joinProxyArgs(argv),
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'proxy-args': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run bench -- [--quick] [--only proxy|names|mtcp[,…]] [--proxy-args "FLAGS"]\n');
    process.exit(0);
  }
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : [...BENCHES];
  const unknown = only.filter((s) => !(BENCHES as readonly string[]).includes(s));
  if (unknown.length) {
    process.stderr.write(`unknown bench ${unknown.join(', ')}; choose from ${BENCHES.join(', ')}\n`);
    process.exit(2);
  }
  return { quick: values.quick, only: only as BenchName[], proxyArgs: values['proxy-args'] };
}

async function runOptional(name: Exclude<BenchName, 'proxy'>, quick: boolean): Promise<unknown> {
  const { module, fn } = OPTIONAL[name];
  let mod: Record<string, unknown>;
  try {
    mod = (await import(module)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === 'ERR_MODULE_NOT_FOUND' ? `${module} is not there yet` : (err as Error).message;
    console.log(`${name} bench skipped: ${why}`);
    return { skipped: why };
  }
  const run = mod[fn];
  if (typeof run !== 'function') {
    console.log(`${name} bench skipped: ${module} has no ${fn}()`);
    return { skipped: `no ${fn}()` };
  }
  try {
    const result: unknown = await run({ quick });
    const format = Object.entries(mod).find(([k, v]) => /^format/.test(k) && typeof v === 'function')?.[1] as ((r: unknown) => string) | undefined;
    console.log(`\n${name} bench:\n${format ? format(result) : JSON.stringify(result, null, 2)}`);
    return result;
  } catch (err) {
    console.log(`${name} bench skipped: it failed: ${(err as Error).message.split('\n')[0]}`);
    return { skipped: `failed: ${(err as Error).message}` };
  }
}

async function main(): Promise<void> {
  const opts = parseCli(process.argv.slice(2));
  const startedAt = new Date();
  const results: Record<string, unknown> = {};
  if (opts.only.includes('proxy')) {
    try {
      const result = await runProxyBench(proxyBenchConfig({ quick: opts.quick, ...(opts.proxyArgs !== undefined ? { proxyArgs: opts.proxyArgs } : {}) }));
      console.log(formatProxyReport(result));
      results.proxy = result;
    } catch (err) {
      console.log(`proxy bench failed: ${(err as Error).message}`);
      results.proxy = { error: (err as Error).message };
      process.exitCode = 1;
    }
  }
  for (const name of ['names', 'mtcp'] as const) {
    if (opts.only.includes(name)) results[name] = await runOptional(name, opts.quick);
  }
  const record = { startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), quick: opts.quick, only: opts.only, results };
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${startedAt.toISOString().replace(/[:.]/g, '-')}${opts.quick ? '-quick' : ''}.json`);
  const text = JSON.stringify(record, null, 2) + '\n';
  writeFileSync(file, text);
  writeFileSync(join(RESULTS, 'latest.json'), text);
  console.log(`\nresults: ${file}`);
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
