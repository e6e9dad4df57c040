/** Heartbeats, resolution, and pushing a message to an agent. */
import type { FastifyInstance } from 'fastify';
import type { NameService } from '../../service/name-service.js';
import { authenticate, authenticateDevice } from '../credentials.js';
import type { RateLimits } from '../build-app.js';
import { parse } from '../parse.js';
import { heartbeatReplyJsonSchema, resolutionJsonSchema } from '../reply-schemas.js';
import { didParam, heartbeatBody, pushBody } from '../schemas.js';

export function presenceRoutes(app: FastifyInstance, svc: NameService, limits: RateLimits): void {
  const auth = (h: string | undefined) => authenticate(svc.accounts, h);

  app.post('/v1/heartbeat', { schema: { response: { 200: heartbeatReplyJsonSchema } } }, async (req) => {
    const body = parse(heartbeatBody, req.body);
    const p = await authenticateDevice(svc.accounts, req.headers.authorization);
    return svc.presence.heartbeat(p, { coa: body.coa, control: body.control ?? null, groupModified: body.groupModified });
  });

  app.get('/v1/devices/:did', { config: { rateLimit: limits.mixed }, schema: { response: { 200: resolutionJsonSchema } } }, async (req) => {
    const { did } = parse(didParam, req.params);
    return svc.presence.resolve(await auth(req.headers.authorization), did);
  });

  app.post('/v1/push/:did', { config: { rateLimit: limits.mixed } }, async (req, reply) => {
    const { did } = parse(didParam, req.params);
    const body = parse(pushBody, req.body);
    const p = await auth(req.headers.authorization);
    reply.code(202);
    return svc.pushes.push(p, did, body);
  });
}
