import { randomBytes } from 'node:crypto';
import { MtcpClientConnection } from '../client/client-connection.js';
import type { ThroughputPolicyOptions } from '../client/throughput-policy.js';
import { MtcpServer } from '../server/mtcp-server.js';
import { parsePoolConfig } from '../server/pool-config.js';
import { formatStreamRequest } from './stream-protocol.js';
import { streamHandler } from './stream-server.js';

/**
 * The paper's degrading-server scenario (M-TCP, streaming application): every member's rate
 * falls along the same profile over the time it has served the connection. With the policy
 * on, the client migrates when its throughput falls below a fraction of the best it has seen,
 * and lands on a member whose profile starts over.
 */
export interface DegradingProfile {
  /** bytes/s at the start. */
  peak: number;
  /** Full rate for this long (ms)... */
  holdMs: number;
  /** ...then a linear fall over this long (ms)... */
  fallMs: number;
  /** ...down to this fraction of the peak, where it stays. */
  floor: number;
}

export const DEFAULT_PROFILE: DegradingProfile = { peak: 2_000_000, holdMs: 300, fallMs: 1000, floor: 0.1 };

export function profileRate(p: DegradingProfile, servedMs: number): number {
  if (servedMs <= p.holdMs) return p.peak;
  const f = Math.min(1, (servedMs - p.holdMs) / p.fallMs);
  return p.peak * (1 - f * (1 - p.floor));
}

/** Mean of the profile over [0, ms): what a client gets on average from one member for that long. */
export function profileMean(p: DegradingProfile, ms: number): number {
  let sum = 0;
  for (let t = 0; t < ms; t += 10) sum += profileRate(p, t);
  return sum / Math.ceil(ms / 10);
}

export interface DegradingResult {
  policy: boolean;
  durationMs: number;
  bytes: number;
  /** Client-perceived throughput, bytes/s. */
  throughput: number;
  migrations: number;
  /** The same profile's mean over the whole run: what one member alone gives (no migration). */
  profileMeanOverRun: number;
  /** The profile's mean over the time between migrations (what migration can at best keep). */
  profileMeanBetweenMigrations: number;
  peak: number;
}

export async function runDegradingScenario(opts: {
  policy: boolean;
  durationMs?: number;
  profile?: DegradingProfile;
  policyOptions?: ThroughputPolicyOptions;
  members?: number;
}): Promise<DegradingResult> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const durationMs = opts.durationMs ?? 2500;
  const n = opts.members ?? 3;
  const pool = parsePoolConfig({ key: randomBytes(24).toString('hex'), members: Array.from({ length: n }, (_, i) => ({ id: `d${i + 1}`, address: '127.0.0.1:0' })) });
  const servers: MtcpServer[] = [];
  try {
    // Listen on port 0 first, then give every member the real addresses.
    for (const m of pool.members) {
      const s = new MtcpServer({ pool, id: m.id, handler: streamHandler({ rateProfile: (t) => profileRate(profile, t), chunkBytes: 8192 }) });
      m.address = await s.listen();
      servers.push(s);
    }
    const conn = await new MtcpClientConnection({
      address: pool.members[0]!.address,
      ...(opts.policy ? { policy: opts.policyOptions ?? { fraction: 0.6, windowMs: 200, sampleMs: 50, warmupMs: 250, cooldownMs: 150 } } : {}),
    }).connect();
    let bytes = 0;
    conn.on('data', (c: Buffer) => (bytes += c.length));
    conn.on('error', () => {});
    const t0 = Date.now();
    conn.write(formatStreamRequest({ seed: 'degrading', length: 1 << 30 }));
    await new Promise((r) => setTimeout(r, durationMs));
    const elapsed = Date.now() - t0;
    const migrations = conn.migrations.filter((m) => m.state === 'done').length;
    conn.destroy();
    return {
      policy: opts.policy,
      durationMs: elapsed,
      bytes,
      throughput: (bytes * 1000) / elapsed,
      migrations,
      profileMeanOverRun: profileMean(profile, elapsed),
      profileMeanBetweenMigrations: profileMean(profile, elapsed / (migrations + 1)),
      peak: profile.peak,
    };
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}
