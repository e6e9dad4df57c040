/**
 * What the service layer shares: the store, the settings, and the outgoing event sink (the push
 * hub). The services hold the rules; the HTTP layer only parses and authenticates.
 */
import type { NameStore } from '../store/name-store.js';
import type { Logger } from '../../common/logger.js';
import type { CredentialCacheOptions } from './credential-cache.js';

/** Heartbeat every 15 s; offline after 3 missed (45 s). Agents on phones may lengthen it. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 15_000;
export const DEFAULT_MISSED_HEARTBEATS = 3;
export const DEFAULT_INTRODUCTION_TTL_MS = 7 * 24 * 3600_000;
/** Largest push message in bytes: under PostgreSQL's 8000-byte NOTIFY payload with its envelope. */
export const DEFAULT_MAX_PUSH_BYTES = 7168;

export interface ServiceSettings {
  /** @default 15000 */
  heartbeatIntervalMs: number;
  /** A device is offline after this many intervals without a heartbeat. @default 3 */
  missedHeartbeats: number;
  /** @default 300000 (5 minutes) */
  pairingTtlMs: number;
  /** @default 7 days */
  introductionTtlMs: number;
  /** scrypt cost of new password hashes. @default N=2^15, r=8, p=1 */
  scryptCost: { N: number; r: number; p: number };
  /** The shared secret of proxies (`--service-key`); service endpoints refuse everyone without it. */
  serviceKey: string | null;
  /** @default 7168 */
  maxPushBytes: number;
  /** Verified credentials kept briefly (service/credential-cache.ts). @default 2000 ms, 10000 entries */
  credentialCache: CredentialCacheOptions;
}

/** A message for an agent or proxy on the push channel; always an object with a `type`. */
export type PushMessage = { type: string } & Record<string, unknown>;

export type DeliveryResult = 'local' | 'fanout' | 'none';

export interface CoaEvent {
  type: 'coa';
  did: string;
  status: 'online' | 'offline';
  coa: string | null;
  lastSeen: string | null;
}

/** Where the services send what must reach connected agents and proxies. */
export interface EventSink {
  /** To every push session of the device, on any name-server process. */
  deliver(did: string, message: PushMessage): Promise<DeliveryResult>;
  /** To proxies subscribed to the device (paper V.B.4). */
  coaChanged(event: CoaEvent): Promise<void>;
  /** Closes the device's push sessions on every process (after a revocation). */
  disconnect(did: string): Promise<void>;
}

export const nullSink: EventSink = {
  deliver: async () => 'none',
  coaChanged: async () => {},
  disconnect: async () => {},
};

export interface ServiceContext {
  store: NameStore;
  settings: ServiceSettings;
  events: EventSink;
  log: Logger;
  now(): number;
}

export type Principal =
  | { kind: 'user'; uid: string }
  | { kind: 'device'; uid: string; did: string }
  | { kind: 'service' };
