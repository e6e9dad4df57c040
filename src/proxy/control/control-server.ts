import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { DeviceAuthenticator, DeviceIdentity } from '../auth/device-authenticator.js';
import { ControlRequestError, notFound } from '../migration/errors.js';
import type { MigrationManager } from '../migration/migration-manager.js';
import type { ConnectionRegistry } from '../registry/connection-registry.js';
import { parseBasicAuth } from './basic-auth.js';
import type { ProxyMetrics } from './metrics.js';

export interface ControlServerDeps {
  authenticator: DeviceAuthenticator;
  connections: ConnectionRegistry;
  migrations: MigrationManager;
  metrics: ProxyMetrics;
  tls?: { cert: Buffer; key: Buffer };
  /** Largest request body accepted. @default 16384 */
  bodyLimit?: number;
}

const migrateBody = z.object({
  to: z.string().min(1).max(320),
  /** A small JSON state exported by a migration-aware app (M-TCP's export contract). */
  snapshot: z.unknown().optional(),
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
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
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

    const ownConnection = (req: FastifyRequest, id: string) => {
      const conn = deps.connections.get(id);
      if (!conn || conn.uid !== req.device.uid) throw notFound('connection', id);
      return conn;
    };
    const ownMigration = (req: FastifyRequest, id: string) => {
      const m = deps.migrations.get(id);
      if (!m || m.uid !== req.device.uid) throw notFound('migration', id);
      return m;
    };

    v1.get('/connections', async (req) => ({
      connections: deps.connections.ofUser(req.device.uid).map((c) => deps.connections.describe(c)),
    }));
    v1.get<{ Params: { id: string } }>('/connections/:id', async (req) =>
      deps.connections.describe(ownConnection(req, req.params.id)),
    );
    v1.delete<{ Params: { id: string } }>('/connections/:id', async (req, reply) => {
      ownConnection(req, req.params.id).close('closed through the control API');
      return reply.code(204).send();
    });
    v1.post<{ Params: { id: string } }>('/connections/:id/migrate', async (req, reply) => {
      const conn = ownConnection(req, req.params.id);
      const body = migrateBody.parse(req.body ?? {});
      const target = await deps.authenticator.resolveDevice(req.device.uid, body.to);
      if (!target) throw notFound('device', body.to);
      const m = deps.migrations.start(conn, target, body.snapshot);
      return reply.code(202).send(m.toJSON(true));
    });
    v1.get('/migrations', async (req) => ({
      migrations: deps.migrations.recentOf(req.device.uid).map((m) => m.toJSON(false)),
    }));
    v1.get<{ Params: { id: string } }>('/migrations/:id', async (req) => {
      const m = ownMigration(req, req.params.id);
      // The ticket is for the devices of the user the migration belongs to.
      return m.toJSON(true);
    });
  }, { prefix: '/v1' });

  return app;
}

function sendError(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).type('application/json').send({ error: { code, message } });
}
