/** The name server's rules in one object, built from a store and settings. */
import { createLogger, type Logger } from '../../common/logger.js';
import { ConfigError } from '../../common/errors.js';
import { PAIRING_CODE_TTL_MS } from '../crypto/pairing-code.js';
import { DEFAULT_SCRYPT } from '../crypto/secrets.js';
import type { NameStore } from '../store/name-store.js';
import { AccountService } from './accounts.js';
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_INTRODUCTION_TTL_MS,
  DEFAULT_MAX_PUSH_BYTES,
  DEFAULT_MISSED_HEARTBEATS,
  nullSink,
  type EventSink,
  type ServiceContext,
  type ServiceSettings,
} from './context.js';
import { DEFAULT_CREDENTIAL_CACHE } from './credential-cache.js';
import { NamespaceService } from './namespace.js';
import { PairingService } from './pairing.js';
import { PresenceService } from './presence.js';
import { PushService } from './push.js';

export function resolveSettings(s: Partial<ServiceSettings>): ServiceSettings {
  const out: ServiceSettings = {
    heartbeatIntervalMs: s.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
    missedHeartbeats: s.missedHeartbeats ?? DEFAULT_MISSED_HEARTBEATS,
    pairingTtlMs: s.pairingTtlMs ?? PAIRING_CODE_TTL_MS,
    introductionTtlMs: s.introductionTtlMs ?? DEFAULT_INTRODUCTION_TTL_MS,
    scryptCost: s.scryptCost ?? DEFAULT_SCRYPT,
    serviceKey: s.serviceKey ?? null,
    maxPushBytes: s.maxPushBytes ?? DEFAULT_MAX_PUSH_BYTES,
    credentialCache: s.credentialCache ?? DEFAULT_CREDENTIAL_CACHE,
  };
  if (!(out.heartbeatIntervalMs >= 10)) throw new ConfigError('heartbeat interval must be at least 10 ms');
  if (!Number.isInteger(out.missedHeartbeats) || out.missedHeartbeats < 1) throw new ConfigError('missed heartbeats must be a positive integer');
  if (out.serviceKey !== null && out.serviceKey.length < 16) throw new ConfigError('the service key must be at least 16 characters');
  if (out.maxPushBytes > 7600) throw new ConfigError('push messages must stay under PostgreSQL NOTIFY payload limit (7600 bytes)');
  return out;
}

export class NameService {
  readonly ctx: ServiceContext;
  readonly accounts: AccountService;
  readonly presence: PresenceService;
  readonly namespace: NamespaceService;
  readonly pairing: PairingService;
  readonly pushes: PushService;

  constructor(store: NameStore, settings: Partial<ServiceSettings> = {}, deps: { log?: Logger; now?: () => number } = {}) {
    this.ctx = {
      store,
      settings: resolveSettings(settings),
      events: nullSink,
      log: deps.log ?? createLogger('names'),
      now: deps.now ?? Date.now,
    };
    this.accounts = new AccountService(this.ctx);
    this.presence = new PresenceService(this.ctx);
    this.namespace = new NamespaceService(this.ctx);
    this.pairing = new PairingService(this.ctx);
    this.pushes = new PushService(this.ctx);
  }

  /** The push hub is built after the service (it needs presence); it plugs in here. */
  setEventSink(events: EventSink): void {
    this.ctx.events = events;
  }
}
