/** Row ↔ record mapping shared by both stores (column names are the same in both). */
import type { DeviceRecord, IntroductionRecord, IntroductionState, UserRecord } from '../model.js';
import type { StoredLogEntry } from '../sync/log-entry.js';

type Row = Record<string, unknown>;

/** PostgreSQL returns BIGINT as a string; both stores go through this. */
function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

export function userFromRow(r: Row): UserRecord {
  return { uid: String(r.uid), passwordHash: String(r.password_hash), createdAt: num(r.created_at) };
}

export function deviceFromRow(r: Row): DeviceRecord {
  return {
    did: String(r.did),
    uid: String(r.uid),
    name: String(r.name),
    tokenHash: String(r.token_hash),
    createdAt: num(r.created_at),
    revokedAt: numOrNull(r.revoked_at),
    coa: strOrNull(r.coa),
    control: strOrNull(r.control),
    lastSeen: numOrNull(r.last_seen),
  };
}

export function introductionFromRow(r: Row): IntroductionRecord {
  return {
    id: String(r.id),
    fromUid: String(r.from_uid),
    fromDid: String(r.from_did),
    toUid: String(r.to_uid),
    fromName: String(r.from_name),
    state: String(r.state) as IntroductionState,
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
  };
}

export function logEntryFromRow(r: Row): StoredLogEntry {
  return {
    seq: num(r.seq),
    id: String(r.id),
    ts: num(r.ts),
    origin: String(r.origin),
    op: r.op === 'delete' ? 'delete' : 'set',
    key: String(r.key),
    value: strOrNull(r.value),
  };
}
