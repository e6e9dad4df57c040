/** Namespace sync, own-device pairing and user introductions. */
import type { FastifyInstance } from 'fastify';
import type { NameService } from '../../service/name-service.js';
import { authenticateDevice } from '../credentials.js';
import { parse } from '../parse.js';
import { claimBody, confirmBody, emptyBody, idParam, introduceBody, syncBody } from '../schemas.js';
import type { RateLimits } from '../build-app.js';

export function namespaceRoutes(app: FastifyInstance, svc: NameService, limits: RateLimits): void {
  const device = (h: string | undefined) => authenticateDevice(svc.accounts, h);

  // 500 entries of at most ~800 bytes each: the one route allowed a larger body.
  app.post('/v1/sync', { bodyLimit: 512 * 1024 }, async (req) => {
    const body = parse(syncBody, req.body);
    return svc.namespace.sync(await device(req.headers.authorization), body.since, body.entries);
  });

  app.post('/v1/pairings', async (req, reply) => {
    parse(emptyBody, req.body);
    const p = await device(req.headers.authorization);
    reply.code(201);
    return svc.pairing.create(p);
  });

  app.post('/v1/pairings/claim', { config: { rateLimit: limits.password } }, async (req, reply) => {
    const body = parse(claimBody, req.body);
    const out = await svc.pairing.claim(body.uid, body.code, body.name);
    reply.code(201);
    return out;
  });

  app.post('/v1/introductions', async (req, reply) => {
    const body = parse(introduceBody, req.body);
    const p = await device(req.headers.authorization);
    reply.code(201);
    return svc.namespace.introduce(p, body.to, body.name);
  });

  app.get('/v1/introductions', async (req) => {
    const list = await svc.namespace.pending(await device(req.headers.authorization));
    return {
      introductions: list.map((i) => ({ id: i.id, from: i.fromUid, fromDevice: i.fromDid, expiresAt: new Date(i.expiresAt).toISOString() })),
    };
  });

  app.post('/v1/introductions/:id/confirm', async (req) => {
    const { id } = parse(idParam, req.params);
    const body = parse(confirmBody, req.body ?? {});
    return svc.namespace.confirm(await device(req.headers.authorization), id, body.name);
  });
}
