/**
 * The SQLite store's memory of devices (docs/names.md, "Presence in memory"). With SQLite one
 * process owns the database, so a cache that every write of that process updates is never
 * stale: device records by DID, each user's DIDs in name order, and each group's log version.
 * A resolution or a heartbeat's group listing then reads no SQL at all.
 *
 * Presence lives here too: a heartbeat that changes nothing but `last_seen` updates the record
 * in memory only, and `storedLastSeen` remembers what the row holds, so the store writes the
 * row again when it grows older than its bound (sqlite-store.ts). Entries go oldest-inserted
 * first past `maxDevices`; an entry whose `last_seen` is newer than its row is written out
 * (`onEvictDirty`) before it goes.
 */
import type { DeviceRecord } from '../model.js';

export interface CachedDevice {
  rec: DeviceRecord;
  /** `last_seen` as the row holds it; `rec.lastSeen` may be newer (memory only). */
  storedLastSeen: number | null;
}

export class DeviceCache {
  private readonly devices = new Map<string, CachedDevice>();
  private readonly lists = new Map<string, string[]>();
  private readonly versions = new Map<string, { seq: number; modified: number }>();

  constructor(
    private readonly maxDevices: number,
    private readonly onEvictDirty: (c: CachedDevice) => void,
  ) {}

  get enabled(): boolean {
    return this.maxDevices > 0;
  }

  device(did: string): CachedDevice | undefined {
    return this.devices.get(did);
  }

  /** Remembers a record read from the row (so memory and row agree). */
  loaded(rec: DeviceRecord): DeviceRecord {
    if (!this.enabled) return rec;
    const had = this.devices.get(rec.did);
    if (had) return had.rec; // memory may hold a newer last_seen than the row
    this.devices.set(rec.did, { rec, storedLastSeen: rec.lastSeen });
    while (this.devices.size > this.maxDevices) {
      const [did, old] = this.devices.entries().next().value!;
      this.devices.delete(did);
      if (old.rec.lastSeen !== old.storedLastSeen) this.onEvictDirty(old);
    }
    return rec;
  }

  /** The row was written with these presence values. */
  written(did: string, coa: string | null, control: string | null, lastSeen: number): void {
    const c = this.devices.get(did);
    if (!c) return;
    c.rec = { ...c.rec, coa, control, lastSeen };
    c.storedLastSeen = lastSeen;
  }

  /** A heartbeat that changed nothing but the time: memory only. */
  touched(c: CachedDevice, lastSeen: number): void {
    c.rec = { ...c.rec, lastSeen };
  }

  revoked(did: string, at: number): void {
    const c = this.devices.get(did);
    if (c) c.rec = { ...c.rec, revokedAt: at };
  }

  /** Rows whose `last_seen` is older than memory's. */
  dirty(): CachedDevice[] {
    return [...this.devices.values()].filter((c) => c.rec.lastSeen !== c.storedLastSeen);
  }

  list(uid: string): string[] | undefined {
    return this.lists.get(uid);
  }

  setList(uid: string, dids: string[]): void {
    if (!this.enabled) return;
    this.lists.set(uid, dids);
    while (this.lists.size > this.maxDevices) this.lists.delete(this.lists.keys().next().value!);
  }

  /** A device was added to the user. */
  forgetList(uid: string): void {
    this.lists.delete(uid);
  }

  version(uid: string): { seq: number; modified: number } | undefined {
    return this.versions.get(uid);
  }

  setVersion(uid: string, v: { seq: number; modified: number }): void {
    if (!this.enabled) return;
    this.versions.set(uid, v);
    while (this.versions.size > this.maxDevices) this.versions.delete(this.versions.keys().next().value!);
  }

  /** The group's log changed. */
  forgetVersion(uid: string): void {
    this.versions.delete(uid);
  }

  clearLists(): void {
    this.lists.clear();
  }
}
