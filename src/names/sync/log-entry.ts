/**
 * The namespace log (paper V.B.3). Every change to a user's namespace group (the UNs they give
 * friends, the DNs they give friends' devices) is an entry; replicas exchange the entries the
 * other lacks and fold them in one total order, so replicas holding the same set of entries hold
 * the same state.
 *
 * Conflict rule (the issue leaves it to us): last writer wins per key. Entries are ordered by
 * (ts, origin, id), compared as numbers then as plain strings; for each key the greatest entry
 * decides, a delete leaves a tombstone. The order is total because ids are unique, and folding is
 * independent of arrival order, so two devices that edited the same group offline converge once
 * each has seen every entry.
 */
import { z } from 'zod';

export const LOG_KEY_RE = /^(un|dn):[^\s:]{1,64}$/;

export const logEntrySchema = z.object({
  id: z.string().min(8).max(64).regex(/^[A-Za-z0-9_-]+$/),
  /** Milliseconds since the epoch on the origin's clock. */
  ts: z.number().int().nonnegative(),
  /** The DID that made the change. */
  origin: z.string().min(1).max(318),
  op: z.enum(['set', 'delete']),
  /** `un:<name>` (a friend) or `dn:<name>` (a friend's device). */
  key: z.string().regex(LOG_KEY_RE, 'expected un:<name> or dn:<name>'),
  /** The UID (for un:) or DID (for dn:) the name points at; null for a delete. */
  value: z.string().min(1).max(318).nullable(),
});

export type LogEntry = z.infer<typeof logEntrySchema>;

/** An entry as the name server stores it: `seq` is its position in the server's copy of the log. */
export interface StoredLogEntry extends LogEntry {
  seq: number;
}

export function compareEntries(a: LogEntry, b: LogEntry): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  if (a.origin !== b.origin) return a.origin < b.origin ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/** The group's state: key → value, for keys whose winning entry is a set. */
export function foldLog(entries: Iterable<LogEntry>): Map<string, string> {
  const winner = new Map<string, LogEntry>();
  for (const e of entries) {
    const cur = winner.get(e.key);
    if (!cur || compareEntries(e, cur) > 0) winner.set(e.key, e);
  }
  const state = new Map<string, string>();
  for (const [key, e] of [...winner].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (e.op === 'set' && e.value !== null) state.set(key, e.value);
  }
  return state;
}

/** The timestamp a heartbeat carries: the newest entry's, 0 for an empty log. */
export function lastModified(entries: Iterable<LogEntry>): number {
  let max = 0;
  for (const e of entries) if (e.ts > max) max = e.ts;
  return max;
}
