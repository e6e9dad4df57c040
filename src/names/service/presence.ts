/**
 * Heartbeats, presence and resolution (paper V.B.2; issue 3, "Heartbeats and presence",
 * "Resolution"). Status is computed when read: a device is online while its last heartbeat is
 * younger than interval × missed, so every name-server process over one database agrees without
 * a timer writing anything.
 */
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { DeviceRecord, DeviceStatus, Resolution } from '../model.js';
import type { CoaEvent, Principal, ServiceContext } from './context.js';

export interface HeartbeatInput {
  coa: string | null;
  control: string | null;
  /** Last-modified timestamp of the device's copy of its namespace group. */
  groupModified: number;
}

export interface HeartbeatReply {
  devices: Resolution[];
  mustSync: boolean;
  groupModified: number;
  intervalMs: number;
  missedHeartbeats: number;
}

export class PresenceService {
  constructor(private readonly ctx: ServiceContext) {}

  statusOf(d: DeviceRecord, now = this.ctx.now()): DeviceStatus {
    const { heartbeatIntervalMs, missedHeartbeats } = this.ctx.settings;
    if (d.revokedAt !== null || d.lastSeen === null) return 'offline';
    return now - d.lastSeen <= heartbeatIntervalMs * missedHeartbeats ? 'online' : 'offline';
  }

  toResolution(d: DeviceRecord, now = this.ctx.now()): Resolution {
    return {
      did: d.did,
      status: this.statusOf(d, now),
      coa: d.coa,
      lastSeen: d.lastSeen === null ? null : new Date(d.lastSeen).toISOString(),
      agent: { push: `/v1/push/${encodeURIComponent(d.did)}`, control: d.control },
    };
  }

  toCoaEvent(r: Resolution): CoaEvent {
    return { type: 'coa', did: r.did, status: r.status, coa: r.coa, lastSeen: r.lastSeen };
  }

  async heartbeat(p: Principal & { kind: 'device' }, input: HeartbeatInput): Promise<HeartbeatReply> {
    const now = this.ctx.now();
    const prev = await this.ctx.store.heartbeat({ did: p.did, coa: input.coa, control: input.control, now });
    if (!prev) throw new NotFoundError(`no device ${p.did}`);
    const wasOnline = prev.lastSeen !== null && now - prev.lastSeen <= this.ctx.settings.heartbeatIntervalMs * this.ctx.settings.missedHeartbeats;
    const [devices, version] = await Promise.all([this.ctx.store.listDevices(p.uid), this.ctx.store.groupVersion(p.uid)]);
    const resolutions = devices.filter((d) => d.revokedAt === null).map((d) => this.toResolution(d, now));
    if (!wasOnline || prev.coa !== input.coa) {
      const me = resolutions.find((r) => r.did === p.did);
      if (me) await this.ctx.events.coaChanged(this.toCoaEvent(me));
    }
    return {
      devices: resolutions,
      mustSync: version.modified !== input.groupModified,
      groupModified: version.modified,
      intervalMs: this.ctx.settings.heartbeatIntervalMs,
      missedHeartbeats: this.ctx.settings.missedHeartbeats,
    };
  }

  /** Devices of the same user, the user's friends, and proxies (service key) may resolve. */
  async resolve(p: Principal, did: string): Promise<Resolution> {
    const d = await this.ctx.store.getDevice(did);
    if (!d || d.revokedAt !== null) throw new NotFoundError(`no device ${did}`);
    if (p.kind !== 'service' && p.uid !== d.uid && !(await this.ctx.store.areFriends(p.uid, d.uid))) {
      throw new ForbiddenError(`not allowed to resolve ${did}`);
    }
    return this.toResolution(d);
  }

  /** Current resolutions of the given devices, for the proxies' subscription sweep. */
  async current(dids: string[]): Promise<Resolution[]> {
    const now = this.ctx.now();
    return (await this.ctx.store.getDevices(dids)).map((d) => this.toResolution(d, now));
  }
}
