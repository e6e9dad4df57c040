import { join } from 'node:path';
import type { MigrationAwareApps } from '../app-api.js';
import { HandlerSpecError } from '../errors.js';
import type { AgentConfig } from '../state/agent-config.js';
import { AppHandler } from './app-handler.js';
import { AwareHandler } from './aware-handler.js';
import { ExecHandler } from './exec-handler.js';
import { FileHandler } from './file-handler.js';
import { parseHandlerSpec } from './handler-spec.js';
import type { HandlerSpec, ResumedStream, StreamHandler } from './handler-types.js';
import { PortHandler } from './port-handler.js';
import type { StreamPickup } from './stream-pickup.js';

export interface HandlerDeps {
  config: AgentConfig;
  apps: MigrationAwareApps;
  pickup?: StreamPickup;
  /** Where the fallback `file:` handler writes: `<dir>/<connection>.bin`. */
  receivedDir: string;
}

/**
 * Which handler takes a resumed stream, most specific first (our reading of issue 4, where it is
 * silent on precedence):
 * 1. the per-migration override (`tsmp migrate --handler`, carried in the snapshot envelope);
 * 2. the config's entry for `host:port`, then for `host`;
 * 3. the migration-aware app named in the envelope, when it is registered on this device;
 * 4. the config's `*` entry;
 * 5. `file:<home>/received/<connection>.bin`, so that no byte is ever dropped for want of a rule.
 */
export function chooseHandlerSpec(resumed: ResumedStream, override: string | undefined, deps: HandlerDeps): string {
  if (override) return override;
  const { handlers } = deps.config;
  const host = hostOf(resumed.destination);
  const byDestination = handlers[resumed.destination] ?? handlers[host];
  if (byDestination) return byDestination;
  if (resumed.app && deps.apps.get(resumed.app)?.importState) return `aware:${resumed.app}`;
  return handlers['*'] ?? `file:${join(deps.receivedDir, '{connection}.bin')}`;
}

/** Builds the handler for a spec, expanding `{connection}`, `{migration}`, `{host}`, `{port}` in file paths. */
export function createHandler(specText: string, resumed: ResumedStream, deps: HandlerDeps): StreamHandler {
  const spec: HandlerSpec = parseHandlerSpec(specText);
  const limits = deps.config.limits;
  switch (spec.kind) {
    case 'file':
      return new FileHandler({ path: expand(spec.path, resumed) });
    case 'exec':
      return new ExecHandler({ command: spec.command });
    case 'port':
      return new PortHandler({
        host: spec.host,
        port: spec.port,
        ...(limits.portQueueBytes ? { maxQueuedBytes: limits.portQueueBytes } : {}),
        ...(limits.portAttachTimeoutMs ? { attachTimeoutMs: limits.portAttachTimeoutMs } : {}),
      });
    case 'app': {
      const command = deps.config.apps[spec.name];
      if (!command) throw new HandlerSpecError(`no app "${spec.name}" in config.json "apps"`);
      if (!deps.pickup) throw new HandlerSpecError('the app handler needs the SOCKS endpoint (--socks)');
      return new AppHandler({
        name: spec.name,
        command,
        pickup: deps.pickup,
        ...(limits.appAttachTimeoutMs ? { attachTimeoutMs: limits.appAttachTimeoutMs } : {}),
      });
    }
    case 'aware':
      return new AwareHandler(deps.apps, spec.app);
  }
}

function hostOf(destination: string): string {
  const colon = destination.lastIndexOf(':');
  const host = colon < 0 ? destination : destination.slice(0, colon);
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function expand(path: string, resumed: ResumedStream): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  const colon = resumed.destination.lastIndexOf(':');
  return path
    .replaceAll('{connection}', safe(resumed.connection))
    .replaceAll('{migration}', safe(resumed.migration))
    .replaceAll('{host}', safe(hostOf(resumed.destination)))
    .replaceAll('{port}', safe(colon < 0 ? '' : resumed.destination.slice(colon + 1)));
}
