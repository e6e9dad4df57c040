import { PassThrough } from 'node:stream';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { proxyBenchConfig, splitArgs } from '../../src/bench/proxy/bench-config.js';
import { patternByte, patternMismatch, patternSlice } from '../../src/bench/proxy/source-protocol.js';
import { distribution, median, percentile } from '../../src/bench/proxy/stats.js';
import { StreamReader } from '../../src/bench/proxy/stream-reader.js';
import { evaluateTargets } from '../../src/bench/proxy/targets-check.js';

describe('pattern stream', () => {
  it('slices agree with the byte function at any offset', () => {
    for (const offset of [0, 1, 250, 251, 252, 1_000_003]) {
      const s = patternSlice(offset, 600);
      expect([...s]).toEqual(Array.from({ length: 600 }, (_, i) => patternByte(offset + i)));
      expect(patternMismatch(s, offset)).toBe(-1);
    }
  });

  it('finds the first wrong byte, and a wrong offset', () => {
    const s = Buffer.from(patternSlice(10, 100));
    s[37] = s[37]! ^ 1;
    expect(patternMismatch(s, 10)).toBe(37);
    expect(patternMismatch(patternSlice(10, 100), 11)).toBe(0);
    expect(patternMismatch(patternSlice(10, 100), 10 + 251)).toBe(-1); // one period apart: the offset check catches it
  });
});

describe('stats', () => {
  it('median and nearest-rank percentiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    const v = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(percentile(v, 50)).toBe(100);
    expect(percentile(v, 99)).toBe(198);
    expect(distribution([NaN, 5, 1]).count).toBe(2);
  });
});

describe('bench config', () => {
  it('splits proxy args like a shell, quotes included', () => {
    expect(splitArgs(' --workers 2  --max-buffer "1 MiB" ')).toEqual(['--workers', '2', '--max-buffer', '1 MiB']);
    expect(splitArgs(undefined)).toEqual([]);
  });

  it('takes TSMP_BENCH_PROXY_ARGS and --proxy-args, and refuses flags the bench sets', () => {
    const saved = process.env.TSMP_BENCH_PROXY_ARGS;
    process.env.TSMP_BENCH_PROXY_ARGS = '--workers 2';
    try {
      expect(proxyBenchConfig({ quick: true, proxyArgs: '--keepalive 5s' }).proxyArgs).toEqual(['--workers', '2', '--keepalive', '5s']);
      expect(() => proxyBenchConfig({ quick: false, proxyArgs: '--listen=127.0.0.1:9' })).toThrow(/set by the bench/);
    } finally {
      if (saved === undefined) delete process.env.TSMP_BENCH_PROXY_ARGS;
      else process.env.TSMP_BENCH_PROXY_ARGS = saved;
    }
  });
});

describe('stream reader', () => {
  it('checks bytes that came before the start offset was known', () => {
    const fake = new PassThrough() as unknown as Socket;
    const reader = new StreamReader(fake, null);
    fake.emit('data', patternSlice(500, 100));
    fake.emit('data', patternSlice(600, 50));
    reader.startAt(500);
    expect(reader.wrong).toBe(0);
    expect(reader.endOffset).toBe(650);
    fake.emit('data', patternSlice(651, 10)); // one byte skipped
    expect(reader.wrong).toBe(10);
  });
});

describe('targets', () => {
  const fig = (tsmp: number) => ({
    unit: 'x', rounds: { direct: [], haproxy: [], tsmp: [] }, median: { direct: 1, haproxy: 1, tsmp },
    ratioToHaproxy: { direct: 1, tsmp }, pairedRatioTsmp: tsmp,
  });
  it('pass and fail against the issue goals (median of per-round p99); a migration with a wrong byte never passes', () => {
    const d = { count: 1, p50: 1, p90: 1, p99: 9, max: 9, rounds: [], medianP50: 1, medianP99: 2 };
    const migration = {
      connectionsOpen: 1, migrations: 1, rounds: 1, failed: 0, connectToFirstByteMs: d, connectToResumeMs: d, attachToResumeMs: d,
      requestToResumeMs: d, clientRequestToTunnelMs: d, migrationsWithReplay: 0, wrongBytes: 0, offsetMismatches: 0, samples: [],
      background: { chunkBytes: 1024, intervalMs: 100, bytesPerSecond: 10_240 },
      runQueue: { proxyWaitMs: { p50: 0, p99: 0 }, clientWaitMs: { p50: 0, p99: 0 }, connectToFirstByteLessProxyWaitMs: { p50: 0, p99: 0 }, connectToFirstByteLessBothWaitsMs: { p50: 0, p99: 0 } },
    };
    const good = evaluateTargets({ throughput: { '1': fig(0.95), '100': fig(0.7) }, connectionRate: { error: 'x' }, migration });
    expect(good.map((t) => t.pass)).toEqual([true, false, false, true, true]);
    const bad = evaluateTargets({ throughput: {}, connectionRate: fig(1), migration: { ...migration, wrongBytes: 1 } });
    expect(bad.map((t) => t.pass)).toEqual([false, false, true, false, false]);
  });
});
