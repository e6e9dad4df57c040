/**
 * The OpenAPI 3.1 document served at /v1/openapi.json, generated from the same zod schemas that
 * validate the requests (zod's toJSONSchema), so the two cannot drift apart.
 */
import { z } from 'zod';
import * as s from './schemas.js';

interface Op {
  method: 'get' | 'post' | 'delete';
  path: string;
  summary: string;
  auth: 'none' | 'user' | 'device' | 'user-or-device' | 'any' | 'service-or-device';
  body?: z.ZodType;
  ok: number;
  reply?: z.ZodType;
}

const OPS: Op[] = [
  { method: 'post', path: '/v1/users', summary: 'Register a user (UID = e-mail address)', auth: 'none', body: s.registerUserBody, ok: 201 },
  { method: 'post', path: '/v1/users/{uid}/devices', summary: 'Add a device; returns its DID and token once', auth: 'user-or-device', body: s.addDeviceBody, ok: 201, reply: s.credentialsReply },
  { method: 'get', path: '/v1/users/{uid}/devices', summary: "List a user's devices with presence", auth: 'user-or-device', ok: 200, reply: s.deviceListReply },
  { method: 'get', path: '/v1/devices/{did}', summary: 'Resolve a DID: status, CoA, last heartbeat, how to reach the agent', auth: 'any', ok: 200, reply: s.resolutionSchema },
  { method: 'delete', path: '/v1/devices/{did}', summary: 'Revoke a device', auth: 'user-or-device', ok: 204 },
  { method: 'post', path: '/v1/heartbeat', summary: 'Heartbeat: CoA and group timestamp in, group presence and must-sync out', auth: 'device', body: s.heartbeatBody, ok: 200, reply: s.heartbeatReply },
  { method: 'post', path: '/v1/sync', summary: 'Exchange namespace log entries (paper V.B.3)', auth: 'device', body: s.syncBody, ok: 200, reply: s.syncReply },
  { method: 'post', path: '/v1/pairings', summary: 'Get a pairing code for a new own device', auth: 'device', ok: 201 },
  { method: 'post', path: '/v1/pairings/claim', summary: 'Join with a pairing code; returns DID and token', auth: 'none', body: s.claimBody, ok: 201, reply: s.credentialsReply },
  { method: 'post', path: '/v1/introductions', summary: 'Introduce this user to another user', auth: 'device', body: s.introduceBody, ok: 201 },
  { method: 'get', path: '/v1/introductions', summary: 'Pending introductions to this user', auth: 'device', ok: 200 },
  { method: 'post', path: '/v1/introductions/{id}/confirm', summary: 'Confirm an introduction on any device', auth: 'device', body: s.confirmBody, ok: 200 },
  { method: 'post', path: '/v1/push/{did}', summary: "Push a message to a device's agent (Migration-To-Request)", auth: 'service-or-device', body: s.pushBody, ok: 202, reply: s.pushReply },
  { method: 'post', path: '/v1/auth/device', summary: "Check a device's token (the proxy's authenticator)", auth: 'none', body: s.verifyDeviceBody, ok: 200, reply: s.identityReply },
  { method: 'get', path: '/v1/push', summary:
      'WebSocket push channel (Upgrade); agents with Basic DID:token, proxies with Bearer service key. Also carries RPC: {type:"rpc", id, method: "resolve"|"heartbeat", params} → {type:"rpc-result", id, result} | {type:"rpc-error", id, error:{code, message, status}}, with the same params, results and rules as GET /v1/devices/{did} and POST /v1/heartbeat (docs/names.md)', auth: 'service-or-device', ok: 101 },
];

const SECURITY: Record<Op['auth'], object[]> = {
  none: [],
  user: [{ basic: [] }],
  device: [{ basic: [] }],
  'user-or-device': [{ basic: [] }],
  any: [{ basic: [] }, { serviceKey: [] }],
  'service-or-device': [{ basic: [] }, { serviceKey: [] }],
};

export function buildOpenApi(): object {
  const paths: Record<string, Record<string, object>> = {};
  const errorRef = { $ref: '#/components/schemas/Error' };
  for (const op of OPS) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const errors = Object.fromEntries(
      ['400', '401', '403', '404', '409', '413', '429'].map((c) => [c, { description: 'error', content: { 'application/json': { schema: errorRef } } }]),
    );
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      ...(params.length ? { parameters: params } : {}),
      security: SECURITY[op.auth],
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(op.body) } } } } : {}),
      responses: {
        [String(op.ok)]: { description: 'success', ...(op.reply ? { content: { 'application/json': { schema: z.toJSONSchema(op.reply) } } } : {}) },
        ...errors,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'tsmp name server (SMPS)', version: '1' },
    paths,
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic', description: 'UID:password or DID:token' },
        serviceKey: { type: 'http', scheme: 'bearer', description: 'the proxies’ service key' },
      },
      schemas: { Error: z.toJSONSchema(s.errorSchema), Resolution: z.toJSONSchema(s.resolutionSchema) },
    },
  };
}
