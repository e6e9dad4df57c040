import { ConfigError } from '../common/errors.js';

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3,
};
const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `4MiB`, `512k`, `65536` → bytes. */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined) throw new ConfigError(`expected a size such as 4MiB, got "${text}"`);
  return Math.round(Number(m[1]) * unit);
}

/** `120s`, `250ms`, `2m`, or a bare number of seconds → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!m) throw new ConfigError(`expected a duration such as 30s or 250ms, got "${text}"`);
  return Math.round(Number(m[1]) * TIME_UNITS[(m[2] ?? 's').toLowerCase()]!);
}
