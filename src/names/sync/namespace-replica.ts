/**
 * A device's replica of its namespace group (paper V.B.3). Local edits become log entries that
 * stay pending until the name server has them; a sync sends the pending entries and receives the
 * entries the device lacks (everything after the last server sequence it saw). The agent keeps
 * one of these and persists `toJSON()`.
 */
import { randomUUID } from 'node:crypto';
import { foldLog, lastModified, type LogEntry, type StoredLogEntry } from './log-entry.js';

export interface SyncRequest {
  since: number;
  entries: LogEntry[];
}

export interface SyncResponse {
  entries: StoredLogEntry[];
  seq: number;
  more: boolean;
}

export interface ReplicaSnapshot {
  did: string;
  seq: number;
  entries: LogEntry[];
  pending: string[];
}

export class NamespaceReplica {
  readonly did: string;
  private readonly entries = new Map<string, LogEntry>();
  private readonly pending = new Set<string>();
  private seq = 0;

  constructor(did: string, snapshot?: ReplicaSnapshot) {
    this.did = did;
    if (snapshot) {
      this.seq = snapshot.seq;
      for (const e of snapshot.entries) this.entries.set(e.id, e);
      for (const id of snapshot.pending) this.pending.add(id);
    }
  }

  set(key: string, value: string, now = Date.now()): LogEntry {
    return this.record({ id: randomUUID().replace(/-/g, ''), ts: now, origin: this.did, op: 'set', key, value });
  }

  delete(key: string, now = Date.now()): LogEntry {
    return this.record({ id: randomUUID().replace(/-/g, ''), ts: now, origin: this.did, op: 'delete', key, value: null });
  }

  private record(e: LogEntry): LogEntry {
    this.entries.set(e.id, e);
    this.pending.add(e.id);
    return e;
  }

  state(): Map<string, string> {
    return foldLog(this.entries.values());
  }

  /** The last-modified timestamp a heartbeat carries. */
  modified(): number {
    return lastModified(this.entries.values());
  }

  hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** What to send: the entries the server lacks, and the last server position this replica saw. */
  syncRequest(maxEntries = 500): SyncRequest {
    const entries: LogEntry[] = [];
    for (const id of this.pending) {
      if (entries.length >= maxEntries) break;
      const e = this.entries.get(id);
      if (e) entries.push(e);
    }
    return { since: this.seq, entries };
  }

  /** Applies the server's answer; `sent` are the entries of the request it answers. */
  applySyncResponse(sent: SyncRequest, res: SyncResponse): void {
    for (const e of sent.entries) this.pending.delete(e.id);
    for (const { seq: _seq, ...e } of res.entries) this.entries.set(e.id, e);
    // The server's position is authoritative, even backwards (its database was restored).
    this.seq = res.seq;
  }

  toJSON(): ReplicaSnapshot {
    return { did: this.did, seq: this.seq, entries: [...this.entries.values()], pending: [...this.pending] };
  }
}
