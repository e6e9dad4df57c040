import { MtcpError, MtcpErrorCode } from '../errors.js';
import type { PoolMemberInfo } from '../wire/control-messages.js';
import type { MigrationTrigger, ServerMigrationRecord } from './migration-record.js';

/**
 * Order in which members are asked to take the connection. On demand with a target: the target,
 * then back to the old member (a rollback: it still holds the state). Otherwise the members after
 * the current one in pool order, then the current one last (after a reset it may still be alive,
 * e.g. only the TCP connection broke). Bounded by `maxAttempts`.
 */
export function migrationCandidates(members: PoolMemberInfo[], current: string, to: string | undefined, trigger: MigrationTrigger, maxAttempts?: number): PoolMemberInfo[] {
  const idx = Math.max(0, members.findIndex((m) => m.id === current));
  const rotated = [...members.slice(idx + 1), ...members.slice(0, idx + 1)];
  let order: PoolMemberInfo[];
  if (to !== undefined) {
    const target = members.filter((m) => m.id === to);
    const back = trigger === 'demand' ? members.filter((m) => m.id === current && m.id !== to) : rotated.filter((m) => m.id !== to);
    order = [...target, ...back];
  } else order = rotated;
  const bound = maxAttempts ?? members.length * 2;
  const out: PoolMemberInfo[] = [];
  while (out.length < bound && order.length > 0) out.push(order[out.length % order.length]!);
  return out;
}

export interface RetryOptions {
  /**
   * Pause before the second round of candidates; doubled each further round, capped at
   * `maxRetryDelayMs`. The first round (each distinct member once) goes without pause, so a
   * migration costs one reconnect when the first member takes it.
   */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** True once the connection is gone: stop trying. */
  aborted?: () => boolean;
  /** `performance.now()` at detach: timings are then measured to the microsecond. */
  detachedPerf?: number;
}

/** Pause before attempt `i` (0-based) when a round has `roundSize` members. */
export function retryDelay(i: number, roundSize: number, o: RetryOptions): number {
  const round = Math.floor(i / Math.max(1, roundSize));
  if (i === 0 || i % Math.max(1, roundSize) !== 0 || o.retryDelayMs <= 0) return 0;
  return Math.min(o.maxRetryDelayMs, o.retryDelayMs * 2 ** (round - 1));
}

/**
 * Tries each candidate in turn with `resume` until one accepts, pausing between rounds (a member
 * that is restarting refuses at once; trying it again a few ms later would only burn the
 * attempts). Fills in the record's phases and timings as it goes (M-TCP paper: migration =
 * reconnect + state transfer).
 */
export async function runMigration(
  record: ServerMigrationRecord,
  candidates: PoolMemberInfo[],
  resume: (address: string, member: PoolMemberInfo) => Promise<{ connectedAt: number; connectedPerf?: number; reply: { member: string } }>,
  retry: RetryOptions = { retryDelayMs: 0, maxRetryDelayMs: 0 },
): Promise<ServerMigrationRecord> {
  const detached = record.phases.detached ?? Date.now();
  const roundSize = new Set(candidates.map((m) => m.id)).size;
  for (const [i, m] of candidates.entries()) {
    const pause = retryDelay(i, roundSize, retry);
    if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    if (retry.aborted?.()) break;
    record.state = 'connecting';
    try {
      const r = await resume(m.address, m);
      record.attempts.push({ member: m.id, ok: true });
      record.to = r.reply.member;
      record.phases.connected = r.connectedAt;
      record.phases.resumed = Date.now();
      record.phases.done = record.phases.resumed;
      record.state = 'done';
      const d = retry.detachedPerf;
      const ms = (x: number): number => Math.round(x * 1000) / 1000;
      record.timings =
        d !== undefined && r.connectedPerf !== undefined
          ? { reconnectMs: ms(r.connectedPerf - d), resumeMs: ms(performance.now() - d), totalMs: ms(performance.now() - d + (detached - record.phases.requested)) }
          : { reconnectMs: r.connectedAt - detached, resumeMs: record.phases.resumed - detached, totalMs: record.phases.done - record.phases.requested };
      return record;
    } catch (err) {
      const code = err instanceof MtcpError ? err.code : ((err as NodeJS.ErrnoException).code ?? 'ERR_MTCP_MIGRATION_FAILED');
      record.attempts.push({ member: m.id, ok: false, error: { code, message: err instanceof Error ? err.message : String(err) } });
    }
  }
  record.state = 'failed';
  record.phases.failed = Date.now();
  const last = record.attempts.at(-1)?.error;
  record.error = { code: MtcpErrorCode.MIGRATION_FAILED, message: `no member took the connection${last ? ` (last: ${last.message})` : ''}` };
  throw new MtcpError(MtcpErrorCode.MIGRATION_FAILED, record.error.message);
}
