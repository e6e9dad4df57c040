import { NetemConfigError } from './errors.js';

/**
 * ns-2's DropTail default of 50 packets (the paper's simulator), in bytes of 1514-byte frames.
 * The bottleneck's queue sets how much a bulk transfer inflates the RTT, so it is explicit.
 */
export const DEFAULT_QUEUE_BYTES = 50 * 1514;

/**
 * One host's access link to the router. Delays are one-way; the RTT between hosts A and B is
 * A.up + B.down + B.up + A.down. Each direction may differ; `delayMs`, `rateKbit` and `loss` set
 * both directions at once.
 */
export interface LinkSpec {
  /** One-way delay in both directions, ms. @default 0 */
  delayMs?: number;
  upDelayMs?: number;
  downDelayMs?: number;
  /** Rate in both directions, kbit/s (1 kbit = 1000 bit). @default unlimited */
  rateKbit?: number;
  upRateKbit?: number;
  downRateKbit?: number;
  /** Packet loss probability in [0, 1) in both directions. @default 0 */
  loss?: number;
  upLoss?: number;
  downLoss?: number;
  /** Bytes the rate limiter queues before it drops (TBF `limit`). @default DEFAULT_QUEUE_BYTES */
  queueBytes?: number;
}

export interface ResolvedLink {
  upDelayMs: number;
  downDelayMs: number;
  upRateKbit: number | null;
  downRateKbit: number | null;
  upLoss: number;
  downLoss: number;
  queueBytes: number;
}

function check(name: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new NetemConfigError(`${name} = ${value} outside ${min}..${max}`);
  }
  return value;
}

export function resolveLink(spec: LinkSpec = {}): ResolvedLink {
  const rate = (v: number | undefined): number | null => (v === undefined ? null : check('rateKbit', v, 8, 100_000_000));
  return {
    upDelayMs: check('upDelayMs', spec.upDelayMs ?? spec.delayMs ?? 0, 0, 60_000),
    downDelayMs: check('downDelayMs', spec.downDelayMs ?? spec.delayMs ?? 0, 0, 60_000),
    upRateKbit: rate(spec.upRateKbit ?? spec.rateKbit),
    downRateKbit: rate(spec.downRateKbit ?? spec.rateKbit),
    upLoss: check('upLoss', spec.upLoss ?? spec.loss ?? 0, 0, 0.999),
    downLoss: check('downLoss', spec.downLoss ?? spec.loss ?? 0, 0, 0.999),
    queueBytes: check('queueBytes', spec.queueBytes ?? DEFAULT_QUEUE_BYTES, 3028, 1 << 30),
  };
}

/**
 * The `tc` arguments that shape `dev` to `rateKbit` with a token bucket filter. The bucket holds
 * two full frames, or 1 ms worth of tokens at high rates, so the limiter neither stalls on a
 * single packet nor lets a burst pass the configured rate by more than that.
 */
export function tbfArgs(dev: string, rateKbit: number, queueBytes: number): string[] {
  const burst = Math.max(2 * 1514, Math.ceil((rateKbit * 1000) / 8 / 1000));
  return ['qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${rateKbit}kbit`, 'burst', String(burst),
    'limit', String(Math.max(queueBytes, burst))];
}
