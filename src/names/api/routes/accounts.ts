/** Users, devices, and the proxies' credential check. */
import type { FastifyInstance } from 'fastify';
import type { NameService } from '../../service/name-service.js';
import { authenticate } from '../credentials.js';
import { parse } from '../parse.js';
import { addDeviceBody, didParam, registerUserBody, uidParam, verifyDeviceBody } from '../schemas.js';
import { UnauthorizedError } from '../../errors.js';
import type { RateLimits } from '../build-app.js';

export function accountRoutes(app: FastifyInstance, svc: NameService, limits: RateLimits): void {
  const auth = (h: string | undefined) => authenticate(svc.accounts, h);

  app.post('/v1/users', { config: { rateLimit: limits.password } }, async (req, reply) => {
    const body = parse(registerUserBody, req.body);
    reply.code(201);
    return svc.accounts.registerUser(body.uid, body.password);
  });

  app.post('/v1/users/:uid/devices', { config: { rateLimit: limits.password } }, async (req, reply) => {
    const { uid } = parse(uidParam, req.params);
    const body = parse(addDeviceBody, req.body);
    const p = await auth(req.headers.authorization);
    reply.code(201);
    return svc.accounts.addDevice(p, uid, body.name);
  });

  app.get('/v1/users/:uid/devices', { config: { rateLimit: limits.mixed } }, async (req) => {
    const { uid } = parse(uidParam, req.params);
    const p = await auth(req.headers.authorization);
    const now = svc.ctx.now();
    const devices = await svc.accounts.listDevices(p, uid);
    return {
      devices: devices
        .filter((d) => d.revokedAt === null)
        .map((d) => ({ name: d.name, ...svc.presence.toResolution(d, now) })),
    };
  });

  app.delete('/v1/devices/:did', { config: { rateLimit: limits.mixed } }, async (req, reply) => {
    const { did } = parse(didParam, req.params);
    await svc.accounts.revokeDevice(await auth(req.headers.authorization), did);
    reply.code(204);
  });

  // The proxy's DeviceAuthenticator: is this DID's token valid right now?
  app.post('/v1/auth/device', { config: { rateLimit: limits.verify } }, async (req) => {
    const body = parse(verifyDeviceBody, req.body);
    const id = await svc.accounts.verifyDevice(body.did, body.token);
    if (!id) throw new UnauthorizedError();
    return id;
  });
}
