import { parseHostPort } from '../../common/host-port.js';
import { HandlerSpecError } from '../errors.js';
import type { HandlerSpec } from './handler-types.js';

/**
 * Parses a handler spec as the user writes it (issue 4, "Migration-To-Request handling"):
 * - `file:PATH`          append the rest of the stream to PATH;
 * - `exec:CMD`           stream → CMD's stdin, CMD's stdout → upstream (CMD runs in `sh -c`);
 * - `port:HOST:PORT`     a local port one client can attach to (`port::PORT` means loopback);
 * - `app` / `app:NAME`   run the configured command NAME (default `default`) against the agent's
 *                        SOCKS endpoint;
 * - `aware` / `aware:APP` hand the stream and snapshot to a migration-aware app (app-api.ts).
 */
export function parseHandlerSpec(text: string): HandlerSpec {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  switch (kind) {
    case 'file':
      if (!rest) throw new HandlerSpecError('file: needs a path, e.g. file:/tmp/download.part2');
      return { kind: 'file', path: rest };
    case 'exec':
      if (!rest.trim()) throw new HandlerSpecError('exec: needs a command, e.g. exec:"mpv -"');
      return { kind: 'exec', command: rest };
    case 'port': {
      if (!rest) throw new HandlerSpecError('port: needs HOST:PORT, e.g. port:127.0.0.1:9000');
      try {
        return { kind: 'port', ...parseHostPort(rest) };
      } catch {
        throw new HandlerSpecError(`port: expected HOST:PORT, got "${rest}"`);
      }
    }
    case 'app':
      return { kind: 'app', name: rest || 'default' };
    case 'aware':
      return rest ? { kind: 'aware', app: rest } : { kind: 'aware' };
    default:
      throw new HandlerSpecError(`unknown handler "${text}" (expected file:, exec:, port:, app or aware)`);
  }
}

export function formatHandlerSpec(spec: HandlerSpec): string {
  switch (spec.kind) {
    case 'file':
      return `file:${spec.path}`;
    case 'exec':
      return `exec:${spec.command}`;
    case 'port':
      return `port:${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`;
    case 'app':
      return spec.name === 'default' ? 'app' : `app:${spec.name}`;
    case 'aware':
      return spec.app ? `aware:${spec.app}` : 'aware';
  }
}
