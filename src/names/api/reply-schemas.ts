/**
 * JSON Schemas of the two hot replies (resolution and heartbeat), given to fastify as response
 * schemas so fast-json-stringify serializes them with a compiled function instead of
 * JSON.stringify. Written by hand with `type: [T, "null"]` rather than generated from zod
 * (api/schemas.ts): zod emits `anyOf` for nullable fields, which fast-json-stringify resolves
 * with a validator on every reply. test/names/api.test.ts checks both replies against the zod
 * schemas, so the two cannot drift apart unnoticed.
 */
const nullableString = { type: ['string', 'null'] } as const;

export const resolutionJsonSchema = {
  type: 'object',
  required: ['did', 'status', 'coa', 'lastSeen', 'agent'],
  properties: {
    did: { type: 'string' },
    status: { type: 'string', enum: ['online', 'offline'] },
    coa: nullableString,
    lastSeen: nullableString,
    agent: {
      type: 'object',
      required: ['push', 'control'],
      properties: { push: { type: 'string' }, control: nullableString },
    },
  },
} as const;

export const heartbeatReplyJsonSchema = {
  type: 'object',
  required: ['devices', 'mustSync', 'groupModified', 'intervalMs', 'missedHeartbeats'],
  properties: {
    devices: { type: 'array', items: resolutionJsonSchema },
    mustSync: { type: 'boolean' },
    groupModified: { type: 'number' },
    intervalMs: { type: 'number' },
    missedHeartbeats: { type: 'number' },
  },
} as const;
