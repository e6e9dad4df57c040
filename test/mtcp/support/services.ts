import { Redis } from 'ioredis';

/** Redis for the eager-transfer tests (scripts/ci-mtcp.sh starts it); undefined when unreachable. */
export async function reachableRedis(url = process.env.TSMP_MTCP_REDIS_URL ?? 'redis://127.0.0.1:6379'): Promise<string | undefined> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
    return url;
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

export const PG_URL = process.env.TSMP_MTCP_PG_URL ?? 'postgres://tsmp:tsmp@127.0.0.1:5432/tsmp_mtcp';

/** PostgreSQL for the bank demo tests; undefined when unreachable. */
export async function reachablePostgres(url = PG_URL): Promise<string | undefined> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query('select 1');
    return url;
  } catch {
    return undefined;
  } finally {
    await c.end().catch(() => {});
  }
}
