/**
 * The name server's data model (paper section V; DESIGN.md "Names"). Plain records shared by the
 * store, the service and the API; no behaviour beyond validation of identifiers.
 */
import { z } from 'zod';

/** A user is their e-mail address (UID). Kept lower-case so that one mailbox is one user. */
export const uidSchema = z
  .string()
  .min(3)
  .max(254)
  .regex(/^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*$/, 'expected an e-mail address (lower case)');

/** A device name is one DNS-like label, so the DID `<name>.<uid>` splits at its first dot. */
export const deviceNameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'expected a device name: a-z, 0-9 and inner dashes');

export const didSchema = z
  .string()
  .max(318)
  .refine((s) => splitDid(s) !== null, 'expected a DID: <device>.<uid>');

export function splitDid(did: string): { name: string; uid: string } | null {
  const dot = did.indexOf('.');
  if (dot <= 0) return null;
  const name = did.slice(0, dot);
  const uid = did.slice(dot + 1);
  if (!deviceNameSchema.safeParse(name).success || !uidSchema.safeParse(uid).success) return null;
  return { name, uid };
}

export interface UserRecord {
  uid: string;
  passwordHash: string;
  createdAt: number;
}

export interface DeviceRecord {
  did: string;
  uid: string;
  name: string;
  tokenHash: string;
  createdAt: number;
  revokedAt: number | null;
  /** Care-of address from the last heartbeat (paper V.B.2), e.g. `203.0.113.5:4711`. */
  coa: string | null;
  /** Where the device's agent answers control requests, if it said so in a heartbeat. */
  control: string | null;
  lastSeen: number | null;
}

export type DeviceStatus = 'online' | 'offline';

/** What a resolution returns (DESIGN.md "Names": DID → status, CoA, last heartbeat, control). */
export interface Resolution {
  did: string;
  status: DeviceStatus;
  coa: string | null;
  /** ISO time of the last heartbeat, or null when the device never sent one. */
  lastSeen: string | null;
  /** How to reach the agent: through the push channel, and its own control address if any. */
  agent: { push: string; control: string | null };
}

export interface PairingRecord {
  codeHash: string;
  uid: string;
  createdBy: string;
  expiresAt: number;
}

export type IntroductionState = 'pending' | 'confirmed';

export interface IntroductionRecord {
  id: string;
  fromUid: string;
  fromDid: string;
  toUid: string;
  /** The UN the introducing user gives the other user. */
  fromName: string;
  state: IntroductionState;
  createdAt: number;
  expiresAt: number;
}
