import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { DeviceAuthenticator, DeviceIdentity } from '../auth/device-authenticator.js';
import { ControlRequestError, notFound } from '../migration/errors.js';
import { parseBasicAuth } from './basic-auth.js';
import type { ControlBackend } from './control-backend.js';

export interface ControlServerDeps {
  authenticator: DeviceAuthenticator;
  backend: ControlBackend;
  /** The Prometheus text and its content type. */
  metrics: () => Promise<{ contentType: string; text: string }>;
  tls?: { cert: Buffer; key: Buffer };
  /** Largest request body accepted. @default 16384 */
  bodyLimit?: number;
}

const migrateBody = z.object({
  to: z.string().min(1).max(320),
  /** A small JSON state exported by a migration-aware app (M-TCP's export contract). */
  snapshot: z.unknown().optional(),
});

/** The longest blocking `GET /v1/migrations/{id}?wait=MS` (a migration times out at 60 s by default). */
export const MAX_MIGRATION_WAIT_MS = 30_000;

const migrationQuery = z.object({
  /** Answer when the migration ends, or after this many ms (Consul-style blocking query). */
  wait: z.coerce.number().int('wait is whole milliseconds').min(0).max(MAX_MIGRATION_WAIT_MS).optional(),
});

/** M-TCP (issue 5): the member to move the server end to; the next one in the pool when absent. */
const migrateServerBody = z.object({
  to: z.string().min(1).max(128).regex(/^[A-Za-z0-9._-]+$/, 'to is a pool member id').optional(),
});

declare module 'fastify' {
  interface FastifyRequest {
    device: DeviceIdentity;
  }
}

/**
 * The proxy's control API (docs/CONTRACTS.md): HTTP/JSON, HTTP Basic with the device's DID and
 * token. A device sees and moves only its own user's connections; any other id is a 404, so ids
 * of other users cannot even be probed.
 */
export function buildControlServer(deps: ControlServerDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimit ?? 16_384,
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key } } : {}),
  }) as unknown as FastifyInstance;
  app.decorateRequest('device', null as unknown as DeviceIdentity);

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof ControlRequestError) return sendError(reply, err.status, err.code, err.message);
    if (err instanceof z.ZodError) return sendError(reply, 400, 'ERR_BAD_REQUEST', err.issues.map((i) => i.message).join('; '));
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return sendError(reply, status, err.code ?? 'ERR_INTERNAL', status === 500 ? 'internal error' : err.message);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'ERR_NOT_FOUND', `no route ${req.method} ${req.url}`));

  // Aggregate counters only, no per-user data: scrapers need no device credentials.
  app.get('/metrics', async (_req, reply) => {
    const { contentType, text } = await deps.metrics();
    reply.header('content-type', contentType);
    return text;
  });

  app.register(async (v1) => {
    v1.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const cred = parseBasicAuth(req.headers.authorization);
      const identity = cred ? await deps.authenticator.authenticate(cred.user, cred.password) : null;
      if (!identity) {
        reply.header('www-authenticate', 'Basic realm="tsmp"');
        return sendError(reply, 401, 'ERR_UNAUTHORIZED', 'device credentials (DID:token) required');
      }
      req.device = identity;
    });
    const b = deps.backend;
    type ById = { Params: { id: string } };

    v1.get('/connections', async (req) => ({ connections: await b.listConnections(req.device.uid) }));
    v1.get<ById>('/connections/:id', async (req) => b.getConnection(req.device.uid, req.params.id));
    v1.delete<ById>('/connections/:id', async (req, reply) => {
      await b.closeConnection(req.device.uid, req.params.id);
      return reply.code(204).send();
    });
    v1.post<ById>('/connections/:id/migrate', async (req, reply) => {
      const body = migrateBody.parse(req.body ?? {});
      await b.getConnection(req.device.uid, req.params.id); // 404 before anything else is said
      const target = await deps.authenticator.resolveDevice(req.device.uid, body.to);
      if (!target) throw notFound('device', body.to);
      return reply.code(202).send(await b.startMigration(req.device.uid, req.params.id, target, body.snapshot));
    });
    v1.post<ById>('/connections/:id/migrate-server', async (req, reply) => {
      const body = migrateServerBody.parse(req.body ?? {});
      return reply.code(202).send(await b.migrateServer(req.device.uid, req.params.id, body.to));
    });
    v1.get('/migrations', async (req) => ({ migrations: await b.listMigrations(req.device.uid) }));
    v1.get<ById>('/migrations/:id', async (req) => {
      const { wait } = migrationQuery.parse(req.query ?? {});
      return b.getMigration(req.device.uid, req.params.id, wait ?? 0);
    });
  }, { prefix: '/v1' });

  return app;
}

function sendError(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).type('application/json').send({ error: { code, message } });
}
