/**
 * The messages of the push channel, as types for the agent and the proxy (docs/names.md,
 * "Push channel"). The channel carries any `{type, ...}` object; these are the ones tsmp defines.
 */
import type { CoaEvent } from '../service/context.js';

/** First frame of every session. */
export interface HelloMessage {
  type: 'hello';
  role: 'agent' | 'proxy';
  did?: string;
}

/** The proxy's Migration-To-Request (CONTRACTS.md "Proxy ↔ name server"). */
export interface MigrationMessage {
  type: 'migration';
  migration: string;
  connection: string;
  ticket: string;
  /** `host:port` of the proxy holding the connection. */
  proxy: string;
  destination: string;
  snapshot?: unknown;
  /** Added by the name server. */
  id: string;
  from: string;
}

export interface IntroductionMessage {
  type: 'introduction';
  id: string;
  from: string;
  fromDevice: string;
  expiresAt: string;
}

export interface GroupChangedMessage {
  type: 'group-changed';
  groupModified: number;
}

export interface PairedMessage {
  type: 'paired';
  did: string;
}

export interface RevokedMessage {
  type: 'revoked';
  did: string;
}

export type AgentMessage = HelloMessage | MigrationMessage | IntroductionMessage | GroupChangedMessage | PairedMessage | RevokedMessage;
export type ProxyMessage = HelloMessage | CoaEvent | { type: 'error'; code: string; message: string };

/** What `NameServerClient.push` sends for a migration: the name server adds `id` and `from`. */
export type MigrationRequest = Omit<MigrationMessage, 'id' | 'from'>;
