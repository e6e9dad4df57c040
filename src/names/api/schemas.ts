/** Request bodies of the HTTP API (zod). The OpenAPI document is generated from these. */
import { z } from 'zod';
import { deviceNameSchema, didSchema, uidSchema } from '../model.js';
import { logEntrySchema } from '../sync/log-entry.js';
import { MAX_SYNC_ENTRIES } from '../service/namespace.js';

/** `host:port`, `[v6]:port` or a bare address: the care-of address as the device sees it. */
const addressSchema = z.string().min(1).max(300);
const unNameSchema = z.string().min(1).max(56).regex(/^[^\s:]+$/, 'no spaces or colons');

export const registerUserBody = z.object({ uid: uidSchema, password: z.string().min(8).max(1024) });
export const addDeviceBody = z.object({ name: deviceNameSchema });
export const heartbeatBody = z.object({
  coa: addressSchema.nullable(),
  control: addressSchema.nullable().optional(),
  groupModified: z.number().int().nonnegative(),
});
export const syncBody = z.object({ since: z.number().int().nonnegative(), entries: z.array(logEntrySchema).max(MAX_SYNC_ENTRIES) });
export const introduceBody = z.object({ to: uidSchema, name: unNameSchema.optional() });
export const confirmBody = z.object({ name: unNameSchema.optional() });
export const claimBody = z.object({ uid: uidSchema, code: z.string().min(8).max(16), name: deviceNameSchema });
export const pushBody = z.looseObject({ type: z.string().min(1).max(64) });
export const verifyDeviceBody = z.object({ did: didSchema, token: z.string().min(1).max(200) });
export const emptyBody = z.object({}).optional();

export const uidParam = z.object({ uid: uidSchema });
export const didParam = z.object({ did: didSchema });
export const idParam = z.object({ id: z.string().min(1).max(64) });

export const resolutionSchema = z.object({
  did: z.string(),
  status: z.enum(['online', 'offline']),
  coa: z.string().nullable(),
  lastSeen: z.string().nullable(),
  agent: z.object({ push: z.string(), control: z.string().nullable() }),
});
export const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export const credentialsReply = z.object({ did: z.string(), token: z.string() });
export const heartbeatReply = z.object({
  devices: z.array(resolutionSchema),
  mustSync: z.boolean(),
  groupModified: z.number(),
  intervalMs: z.number(),
  missedHeartbeats: z.number(),
});
export const syncReply = z.object({
  entries: z.array(logEntrySchema.extend({ seq: z.number().int() })),
  seq: z.number().int(),
  more: z.boolean(),
  groupModified: z.number(),
});
export const deviceListReply = z.object({ devices: z.array(resolutionSchema.extend({ name: z.string() })) });
export const pushReply = z.object({ id: z.string(), delivered: z.enum(['local', 'fanout']) });
export const identityReply = z.object({ uid: z.string(), device: z.string(), did: z.string() });
