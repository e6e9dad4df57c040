/**
 * The RPC `resolve` of device sessions is rate-limited like `GET /v1/devices/{did}` (the
 * `mixed` limit, 300 per minute by default), and per device, not per session: opening more
 * sessions gives no more lookups. Without it a device could probe quickly which DIDs exist
 * (404 vs 403). Proxies (the service key) are exempt, as on HTTP.
 *
 * A token bucket per DID: `max` tokens, refilled continuously at `max` per `timeWindow`. The map
 * is bounded (`maxKeys`, oldest entry dropped first), so many devices cannot grow it unbounded;
 * a dropped entry starts again with a full bucket, which only ever errs towards allowing.
 */
export interface RpcRateLimitOptions {
  max: number;
  timeWindow: number;
  /** Devices tracked at once. @default 100000 */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RpcRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly maxKeys: number;

  constructor(
    private readonly opts: RpcRateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.perMs = opts.max / opts.timeWindow;
    this.maxKeys = opts.maxKeys ?? 100_000;
  }

  /** True when `key` may make one more request now (and counts it). */
  take(key: string): boolean {
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
      b = { tokens: this.opts.max, at: t };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.opts.max, b.tokens + (t - b.at) * this.perMs);
      b.at = t;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Milliseconds until `key` has a token again (for the error message). */
  retryAfterMs(key: string): number {
    const b = this.buckets.get(key);
    if (!b || b.tokens >= 1) return 0;
    return Math.ceil((1 - b.tokens) / this.perMs);
  }
}
