import { describe, expect, it } from 'vitest';
import { ThroughputMonitor } from '../../src/mtcp/client/throughput-policy.js';
import { DEFAULT_PROFILE, profileMean, profileRate, runDegradingScenario } from '../../src/mtcp/examples/degrading-scenario.js';

describe('throughput policy rule', () => {
  it('fires only below the fraction of the max, after warm-up, and never while paused', () => {
    const m = new ThroughputMonitor({ fraction: 0.5, windowMs: 200, sampleMs: 100, warmupMs: 0, cooldownMs: 0 });
    m.rearm(0, false);
    const step = (bytes: number, t: number, paused = false) => {
      m.count(bytes);
      return m.tick(t, paused);
    };
    expect(step(1000, 100).migrate).toBe(false); // window not full yet
    expect(step(1000, 200)).toEqual({ rate: 10_000, migrate: false });
    expect(step(600, 300).migrate).toBe(false); // 8000/s ≥ 5000/s
    expect(step(100, 400, true).migrate).toBe(false); // paused: the reader is the bottleneck
    step(300, 500);
    expect(step(300, 600)).toEqual({ rate: 3000, migrate: true });
    expect(m.maxObserved).toBe(10_000);
  });

  it('the degrading profile is what it says', () => {
    expect(profileRate(DEFAULT_PROFILE, 0)).toBe(DEFAULT_PROFILE.peak);
    expect(profileRate(DEFAULT_PROFILE, 10_000)).toBeCloseTo(DEFAULT_PROFILE.peak * DEFAULT_PROFILE.floor);
    expect(profileMean(DEFAULT_PROFILE, 300)).toBe(DEFAULT_PROFILE.peak);
  });
});

describe('degrading servers: client-perceived throughput with the policy on and off', () => {
  // Rates come from timers; on a starved machine one run can be off, so it gets two more tries.
  it('migration by policy keeps throughput well above a single degrading member', { retry: 2, timeout: 30_000 }, async () => {
    // A modest peak keeps the generator (SHA-256) far from the CPU limit of a loaded CI machine.
    const profile = { ...DEFAULT_PROFILE, peak: 800_000 };
    const off = await runDegradingScenario({ policy: false, profile });
    const on = await runDegradingScenario({ policy: true, profile });
    const kB = (x: number) => `${(x / 1000).toFixed(0)} kB/s`;
    console.log(
      `degrading: policy off ${kB(off.throughput)} (profile mean over the run ${kB(off.profileMeanOverRun)}), ` +
        `policy on ${kB(on.throughput)} with ${on.migrations} migrations (profile mean between migrations ${kB(on.profileMeanBetweenMigrations)}), peak ${kB(on.peak)}`,
    );
    expect(off.migrations).toBe(0);
    expect(on.migrations).toBeGreaterThanOrEqual(1);
    expect(on.throughput).toBeGreaterThan(off.throughput * 1.4);
    // Without migration the client gets about the profile's mean (sanity of the measurement).
    expect(off.throughput).toBeLessThan(off.profileMeanOverRun * 1.25);
  });
});
