/**
 * Namespace groups: sync of the modification log (paper V.B.3) and user introductions
 * (paper V.B.1; issue 3, "Introductions").
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import type { IntroductionRecord } from '../model.js';
import { foldLog, type LogEntry, type StoredLogEntry } from '../sync/log-entry.js';
import type { Principal, ServiceContext } from './context.js';

/** Entries more than this far in the future (by the server's clock) are refused. */
export const MAX_CLOCK_SKEW_MS = 24 * 3600_000;
export const MAX_SYNC_ENTRIES = 500;
const READ_LIMIT = 1000;

export interface SyncReply {
  entries: StoredLogEntry[];
  /** The seq to send as `since` next time. */
  seq: number;
  /** True when more entries are waiting: sync again with `since: seq`. */
  more: boolean;
  groupModified: number;
}

export class NamespaceService {
  constructor(private readonly ctx: ServiceContext) {}

  async sync(p: Principal & { kind: 'device' }, since: number, entries: LogEntry[]): Promise<SyncReply> {
    const now = this.ctx.now();
    for (const e of entries) {
      if (e.origin !== p.did) throw new BadRequestError(`entry ${e.id} has origin ${e.origin}, not ${p.did}`);
      if (e.ts > now + MAX_CLOCK_SKEW_MS) throw new BadRequestError(`entry ${e.id} is dated in the future`);
      if ((e.op === 'set') !== (e.value !== null)) throw new BadRequestError(`entry ${e.id}: a set has a value, a delete has none`);
    }
    const added = entries.length ? await this.ctx.store.appendLog(p.uid, entries) : 0;
    const version = await this.ctx.store.groupVersion(p.uid);
    // A replica ahead of this log (the server's database was restored) starts over from 0;
    // entries it already has are idempotent by id.
    if (since > version.seq) since = 0;
    const out = await this.ctx.store.readLog(p.uid, since, READ_LIMIT + 1);
    const more = out.length > READ_LIMIT;
    if (more) out.length = READ_LIMIT;
    if (added > 0) await this.notifyGroup(p.uid, version.modified, p.did);
    return { entries: out, seq: more ? out[out.length - 1]!.seq : Math.max(version.seq, since), more, groupModified: version.modified };
  }

  private async notifyGroup(uid: string, modified: number, except?: string): Promise<void> {
    for (const d of await this.ctx.store.listDevices(uid)) {
      if (d.did !== except && d.revokedAt === null) await this.ctx.events.deliver(d.did, { type: 'group-changed', groupModified: modified });
    }
  }

  /** Offers a friendship to another user; every device of theirs is told (push) and may confirm. */
  async introduce(p: Principal & { kind: 'device' }, toUid: string, name: string | undefined): Promise<{ id: string; expiresAt: string }> {
    if (toUid === p.uid) throw new BadRequestError('cannot introduce a user to themselves');
    const now = this.ctx.now();
    const intro: IntroductionRecord = {
      id: randomBytes(12).toString('base64url'),
      fromUid: p.uid,
      fromDid: p.did,
      toUid,
      fromName: name ?? toUid.slice(0, toUid.indexOf('@')),
      state: 'pending',
      createdAt: now,
      expiresAt: now + this.ctx.settings.introductionTtlMs,
    };
    // An unknown user gets the same answer, so introductions do not enumerate accounts.
    if (await this.ctx.store.getUser(toUid)) {
      await this.ctx.store.createIntroduction(intro);
      const msg = { type: 'introduction', id: intro.id, from: p.uid, fromDevice: p.did, expiresAt: new Date(intro.expiresAt).toISOString() };
      for (const d of await this.ctx.store.listDevices(toUid)) if (d.revokedAt === null) await this.ctx.events.deliver(d.did, msg);
    }
    return { id: intro.id, expiresAt: new Date(intro.expiresAt).toISOString() };
  }

  async pending(p: Principal & { kind: 'device' }): Promise<IntroductionRecord[]> {
    return this.ctx.store.listIntroductions(p.uid, this.ctx.now());
  }

  /**
   * Confirms on any device of the introduced user. Both groups get a `un:` entry naming the
   * other user; a name already taken in a group gets `-2`, `-3`, ... so UNs stay unique.
   */
  async confirm(p: Principal & { kind: 'device' }, id: string, name: string | undefined): Promise<{ un: string; friend: string }> {
    const intro = await this.ctx.store.getIntroduction(id);
    if (!intro || intro.toUid !== p.uid) throw new NotFoundError(`no introduction ${id}`);
    if (intro.state !== 'pending' || intro.expiresAt <= this.ctx.now()) throw new ConflictError(`introduction ${id} is no longer pending`);
    if (await this.ctx.store.areFriends(p.uid, intro.fromUid)) throw new ConflictError('already friends');
    const now = this.ctx.now();
    const mine = await this.freeName(p.uid, name ?? intro.fromUid.slice(0, intro.fromUid.indexOf('@')));
    const theirs = await this.freeName(intro.fromUid, intro.fromName);
    const entry = (origin: string, key: string, value: string): LogEntry => ({ id: randomUUID().replace(/-/g, ''), ts: now, origin, op: 'set', key, value });
    const ok = await this.ctx.store.confirmIntroduction(id, [
      { uid: p.uid, entry: entry(p.did, `un:${mine}`, intro.fromUid) },
      { uid: intro.fromUid, entry: entry(intro.fromDid, `un:${theirs}`, p.uid) },
    ]);
    if (!ok) throw new ConflictError(`introduction ${id} is no longer pending`);
    for (const uid of [p.uid, intro.fromUid]) await this.notifyGroup(uid, (await this.ctx.store.groupVersion(uid)).modified);
    return { un: mine, friend: intro.fromUid };
  }

  private async freeName(uid: string, wanted: string): Promise<string> {
    const base = wanted.replace(/[\s:]/g, '-').slice(0, 56) || 'friend';
    const state = foldLog(await this.readAll(uid));
    for (let i = 1; ; i++) {
      const candidate = i === 1 ? base : `${base}-${i}`;
      if (!state.has(`un:${candidate}`)) return candidate;
    }
  }

  private async readAll(uid: string): Promise<StoredLogEntry[]> {
    const all: StoredLogEntry[] = [];
    for (let since = 0; ; ) {
      const batch = await this.ctx.store.readLog(uid, since, READ_LIMIT);
      all.push(...batch);
      if (batch.length < READ_LIMIT) return all;
      since = batch[batch.length - 1]!.seq;
    }
  }
}
