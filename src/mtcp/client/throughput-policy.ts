/**
 * Migration by policy, as in the M-TCP paper: migrate when the throughput the client perceives
 * falls below a fraction of the maximum observed on this connection.
 *
 * Throughput is measured over a sliding window of `windowMs`, sampled every `sampleMs`. The
 * maximum is kept across migrations (it is the best the pool has shown this client). The rule is
 * suspended while the reader is paused (the client, not the server, is the bottleneck), for
 * `warmupMs` after each (re)attachment and for `cooldownMs` after a migration.
 */
export interface ThroughputPolicyOptions {
  /** Migrate when throughput < fraction × max observed. @default 0.5 */
  fraction?: number;
  /** @default 1000 */
  windowMs?: number;
  /** @default 100 */
  sampleMs?: number;
  /** @default 1000 */
  warmupMs?: number;
  /** @default 2000 */
  cooldownMs?: number;
}

export class ThroughputMonitor {
  readonly fraction: number;
  readonly windowMs: number;
  readonly sampleMs: number;
  readonly warmupMs: number;
  readonly cooldownMs: number;
  private samples: number[] = [];
  private current = 0;
  private max = 0;
  private armedAt = 0;

  constructor(opts: ThroughputPolicyOptions = {}) {
    this.fraction = opts.fraction ?? 0.5;
    this.windowMs = opts.windowMs ?? 1000;
    this.sampleMs = opts.sampleMs ?? 100;
    this.warmupMs = opts.warmupMs ?? 1000;
    this.cooldownMs = opts.cooldownMs ?? 2000;
    if (!(this.fraction > 0 && this.fraction < 1)) throw new RangeError('policy fraction must be in (0, 1)');
  }

  get maxObserved(): number {
    return this.max;
  }

  count(bytes: number): void {
    this.current += bytes;
  }

  /** Starts a fresh window after an attachment; `afterMigration` adds the cooldown. */
  rearm(now: number, afterMigration: boolean): void {
    this.samples = [];
    this.current = 0;
    this.armedAt = now + (afterMigration ? this.cooldownMs : 0) + this.warmupMs;
  }

  /**
   * Called every `sampleMs`. Returns the measured throughput (bytes/s) and whether the policy
   * says to migrate now.
   */
  tick(now: number, paused: boolean): { rate: number; migrate: boolean } {
    if (paused) {
      this.samples = [];
      this.current = 0;
      return { rate: 0, migrate: false };
    }
    this.samples.push(this.current);
    this.current = 0;
    const n = Math.max(1, Math.round(this.windowMs / this.sampleMs));
    if (this.samples.length > n) this.samples.shift();
    if (this.samples.length < n) return { rate: 0, migrate: false };
    const rate = (this.samples.reduce((a, b) => a + b, 0) * 1000) / this.windowMs;
    if (now < this.armedAt) {
      this.max = Math.max(this.max, rate);
      return { rate, migrate: false };
    }
    this.max = Math.max(this.max, rate);
    return { rate, migrate: this.max > 0 && rate < this.fraction * this.max };
  }
}
