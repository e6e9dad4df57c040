import { createLogger } from '../../common/logger.js';
import { ConfigError } from '../../common/errors.js';
import { loadPoolConfig } from '../server/pool-config.js';
import type { MtcpServer } from '../server/mtcp-server.js';
import { createStreamServer } from './stream-server.js';

export interface RunStreamServerOptions {
  listen?: string;
  pool: string;
  id: string;
  /** Bytes per second; unlimited when absent. */
  rate?: number;
}

/**
 * `tsmp example stream-server`: one pool member serving the sample stream protocol until
 * SIGINT/SIGTERM. Prints `listening <member> <address>` on stdout once ready (scripts wait for it).
 */
export async function runStreamServer(o: RunStreamServerOptions): Promise<MtcpServer> {
  if (o.rate !== undefined && !(Number.isFinite(o.rate) && o.rate > 0)) throw new ConfigError('--rate must be a positive number of bytes per second');
  const pool = await loadPoolConfig(o.pool);
  const logger = createLogger(`mtcp:${o.id}`);
  const server = createStreamServer({ pool, id: o.id, listen: o.listen, rate: o.rate, logger });
  const address = await server.listen();
  process.stdout.write(`listening ${o.id} ${address}\n`);
  const stop = (): void => {
    server.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}
