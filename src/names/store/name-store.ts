/**
 * The one storage interface of the name server. SQLite (one process) and PostgreSQL (several
 * name-server processes over one database) implement it and pass the same contract suite
 * (test/names/store-contract.ts). Every method that changes more than one row runs in one
 * transaction, so a crash never leaves the database half-written.
 */
import type { DeviceRecord, IntroductionRecord, PairingRecord, UserRecord } from '../model.js';
import type { LogEntry, StoredLogEntry } from '../sync/log-entry.js';

export interface NewDevice {
  did: string;
  uid: string;
  name: string;
  tokenHash: string;
  createdAt: number;
}

export interface HeartbeatUpdate {
  did: string;
  coa: string | null;
  control: string | null;
  now: number;
}

/** The device's presence before the heartbeat was applied, so callers can see a CoA change. */
export interface PreviousPresence {
  coa: string | null;
  lastSeen: number | null;
}

export interface NameStore {
  readonly kind: 'sqlite' | 'postgres';

  /** Creates the user; resolves false when the UID is taken. */
  createUser(user: UserRecord): Promise<boolean>;
  getUser(uid: string): Promise<UserRecord | null>;

  /** Creates the device; resolves false when the DID is taken. Throws when the user is unknown. */
  createDevice(device: NewDevice): Promise<boolean>;
  getDevice(did: string): Promise<DeviceRecord | null>;
  /** The devices among `dids` that exist, in no particular order. */
  getDevices(dids: string[]): Promise<DeviceRecord[]>;
  listDevices(uid: string): Promise<DeviceRecord[]>;
  /** Marks the device revoked; resolves false when it does not exist or already was. */
  revokeDevice(did: string, now: number): Promise<boolean>;

  /** Records a heartbeat of a non-revoked device; null when there is no such device. */
  heartbeat(update: HeartbeatUpdate): Promise<PreviousPresence | null>;

  createPairing(pairing: PairingRecord): Promise<void>;
  /**
   * Consumes the pairing code and creates the device in one transaction. Resolves 'invalid'
   * when no unexpired code matches, 'taken' when the DID exists (the code stays usable).
   */
  claimPairing(codeHash: string, device: NewDevice): Promise<{ result: 'ok'; createdBy: string } | { result: 'invalid' | 'taken' }>;

  createIntroduction(intro: IntroductionRecord): Promise<void>;
  getIntroduction(id: string): Promise<IntroductionRecord | null>;
  listIntroductions(toUid: string, now: number): Promise<IntroductionRecord[]>;
  /**
   * Marks the introduction confirmed, records the friendship both ways, and appends the entries
   * to each group's log, all in one transaction. False when it was not pending.
   */
  confirmIntroduction(id: string, entries: { uid: string; entry: LogEntry }[]): Promise<boolean>;
  areFriends(uid: string, other: string): Promise<boolean>;

  /** Appends the entries the log lacks (by id); returns how many were new. */
  appendLog(uid: string, entries: LogEntry[]): Promise<number>;
  /** Entries with seq > since, oldest first, at most `limit`. */
  readLog(uid: string, since: number, limit: number): Promise<StoredLogEntry[]>;
  /** The newest seq and the newest entry timestamp of the group; zeros when empty. */
  groupVersion(uid: string): Promise<{ seq: number; modified: number }>;

  /** Bulk load for benchmarks and imports, in batches of one transaction each. */
  importDevices(devices: NewDevice[]): Promise<void>;

  close(): Promise<void>;
}
