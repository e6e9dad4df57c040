import type { MigrationAwareApps } from '../app-api.js';
import { HandlerFailedError } from '../errors.js';
import type { HandlerContext, HandlerOutcome, ResumedStream, StreamHandler } from './handler-types.js';
import { byteCounter } from './stream-util.js';

/**
 * `aware` / `aware:APP`: hands the resumed stream and the exported snapshot to a migration-aware
 * app's importer (app-api.ts, M-TCP's import half). Without an explicit APP, the app named in the
 * migration's envelope is used.
 */
export class AwareHandler implements StreamHandler {
  readonly spec: string;
  readonly #apps: MigrationAwareApps;
  readonly #app: string | undefined;

  constructor(apps: MigrationAwareApps, app?: string) {
    this.#apps = apps;
    this.#app = app;
    this.spec = app ? `aware:${app}` : 'aware';
  }

  async handle(resumed: ResumedStream, context: HandlerContext): Promise<HandlerOutcome> {
    const name = this.#app ?? resumed.app;
    const app = name ? this.#apps.get(name) : undefined;
    if (!app?.importState) {
      resumed.stream.destroy();
      throw new HandlerFailedError(name ? `no migration-aware app "${name}" is registered here` : 'the migration names no migration-aware app');
    }
    const counts = byteCounter(resumed.stream);
    try {
      await app.importState(resumed.snapshot ?? null, resumed.stream, {
        connection: { id: resumed.connection, destination: resumed.destination },
        migration: resumed.migration,
        ...(resumed.from ? { from: resumed.from } : {}),
      });
    } catch (err) {
      resumed.stream.destroy();
      throw new HandlerFailedError(`app "${name}" failed to import: ${(err as Error).message}`, { cause: err });
    }
    context.logger.info({ app: name }, 'stream imported by migration-aware app');
    return { handler: `aware:${name}`, ...counts() };
  }
}
