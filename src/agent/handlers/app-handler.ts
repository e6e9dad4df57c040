import { HandlerFailedError } from '../errors.js';
import { exitOf, migrationEnv, spawnShell } from './child-process-bridge.js';
import type { HandlerContext, HandlerOutcome, ResumedStream, StreamHandler } from './handler-types.js';
import type { StreamPickup } from './stream-pickup.js';
import { byteCounter, whenClosed } from './stream-util.js';

export interface AppHandlerOptions {
  /** The name under `apps` in the config file. */
  name: string;
  /** Shell command of the legacy app; it reaches the network through `$ALL_PROXY`. */
  command: string;
  pickup: StreamPickup;
  /** How long the app has to connect through the endpoint. @default 30000 */
  attachTimeoutMs?: number;
}

/**
 * `app`: runs a configured legacy app that speaks through the agent's local SOCKS endpoint
 * (issue 4). The app connects to the connection's destination as it would anyway; the endpoint
 * gives it the resumed stream instead of a new tunnel, so the app continues where the old device
 * stopped. This suits protocols whose client can join mid-stream (line chats, MPEG-TS players);
 * for the others there are `file:`, `exec:` and migration-aware apps.
 */
export class AppHandler implements StreamHandler {
  readonly spec: string;
  readonly #options: AppHandlerOptions;

  constructor(options: AppHandlerOptions) {
    this.#options = options;
    this.spec = options.name === 'default' ? 'app' : `app:${options.name}`;
  }

  async handle(resumed: ResumedStream, context: HandlerContext): Promise<HandlerOutcome> {
    const { stream } = resumed;
    const { pickup, command } = this.#options;
    const endpoint = pickup.endpoint();
    if (!endpoint) {
      stream.destroy();
      throw new HandlerFailedError('the app handler needs the agent\'s SOCKS endpoint (--socks 127.0.0.1:PORT)');
    }
    const socks = `${endpoint.host}:${endpoint.port}`;
    const env = migrationEnv(resumed, {
      ALL_PROXY: `socks5h://${socks}`,
      all_proxy: `socks5h://${socks}`,
      TSMP_SOCKS: socks,
    });
    const counts = byteCounter(stream);
    const child = spawnShell(command, env, context.logger, 'ignore');
    const exit = exitOf(child);
    const onAbort = () => child.kill('SIGTERM');
    context.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([
        pickup.offer(resumed.destination, stream, this.#options.attachTimeoutMs ?? 30_000, context.signal),
        exit.then((code) => {
          throw new HandlerFailedError(`app "${command}" exited (${code}) before it connected to ${resumed.destination}`);
        }),
      ]);
    } catch (err) {
      child.kill('SIGTERM');
      stream.destroy();
      exit.catch(() => undefined);
      throw err instanceof HandlerFailedError ? err : new HandlerFailedError(`app handler: ${(err as Error).message}`, { cause: err });
    } finally {
      context.signal?.removeEventListener('abort', onAbort);
    }
    const [exitCode] = await Promise.all([exit, whenClosed(stream)]);
    return { handler: this.spec, ...counts(), exitCode };
  }
}
