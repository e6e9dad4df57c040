/**
 * The HTTP API under /v1 (fastify). Every body is validated (api/schemas.ts); every error is
 * `{error: {code, message}}` with its status; password and pairing endpoints are rate-limited
 * per client address (@fastify/rate-limit). HTTPS when given a certificate and key.
 */
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Logger } from '../../common/logger.js';
import { NamesError } from '../errors.js';
import type { NameService } from '../service/name-service.js';
import { isServiceKey } from './credentials.js';
import { buildOpenApi } from './openapi.js';
import { accountRoutes } from './routes/accounts.js';
import { namespaceRoutes } from './routes/namespace.js';
import { presenceRoutes } from './routes/presence.js';

export interface RateLimit {
  max: number;
  timeWindow: number;
}

export interface RateLimits {
  /** Endpoints that check a password or a pairing code. @default 20 per minute per address */
  password: RateLimit;
  /** The proxies' token check without the service key. @default 600 per minute per address */
  verify: RateLimit;
  /**
   * Endpoints that take a device token or a password (resolve, list, revoke, push): a password
   * costs one scrypt, so these are bounded too. @default 300 per minute per address
   */
  mixed: RateLimit;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  password: { max: 20, timeWindow: 60_000 },
  verify: { max: 600, timeWindow: 60_000 },
  mixed: { max: 300, timeWindow: 60_000 },
};

export interface ApiOptions {
  /** Largest request body. @default 65536 */
  bodyLimit: number;
  rateLimits: RateLimits;
  tls?: { cert: Buffer; key: Buffer };
}

export async function buildApp(svc: NameService, opts: ApiOptions, log: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: opts.bodyLimit,
    // Fastify logs every request at info; the name server logs its own events and errors only.
    loggerInstance: log.child({}, { level: 'warn' }),
    // No per-request child logger and no request log lines: they cost more than a resolution.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger) => logger,
    ...(opts.tls ? { https: opts.tls } : {}),
  }) as unknown as FastifyInstance;

  await app.register(rateLimit, {
    global: false,
    // Proxies present the service key and check many devices' tokens; they are not limited.
    allowList: (req) => isServiceKey(svc.accounts, req.headers.authorization),
    errorResponseBuilder: (_req, ctx) => new NamesError(429, 'ERR_RATE_LIMITED', `too many requests; retry in ${Math.ceil(ctx.ttl / 1000)} s`),
  });

  app.setErrorHandler((err: FastifyError | NamesError, _req, reply) => {
    if (err instanceof NamesError) return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.error({ err }, 'request failed');
    const code = status === 413 ? 'ERR_PAYLOAD_TOO_LARGE' : status === 415 ? 'ERR_UNSUPPORTED_MEDIA_TYPE' : status === 500 ? 'ERR_INTERNAL' : 'ERR_BAD_REQUEST';
    return reply.code(status).send({ error: { code, message: status === 500 ? 'internal error' : err.message } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'ERR_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );

  const openapi = buildOpenApi();
  app.get('/v1/openapi.json', async () => openapi);
  app.get('/v1/health', async () => ({ ok: true, store: svc.ctx.store.kind }));
  accountRoutes(app, svc, opts.rateLimits);
  presenceRoutes(app, svc, opts.rateLimits);
  namespaceRoutes(app, svc, opts.rateLimits);
  return app;
}
