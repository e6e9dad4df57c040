import { ConfigError } from '../common/errors.js';
import type { HostPort } from '../common/host-port.js';
import type { Logger } from '../common/logger.js';
import type { DeviceAuthenticator, DeviceIdentity } from './auth/device-authenticator.js';
import type { AttachingDevice } from './relay/relay-connection.js';
import { validateMtcpOptions, type MtcpUpstreamOptions } from './upstream/mtcp-pools.js';

export interface ProxyOptions {
  /** Where devices connect with SOCKS5 or HTTP CONNECT. @default 127.0.0.1:1080 */
  listen?: HostPort;
  /** Where the control API listens; `null` for none. @default 127.0.0.1:1081 */
  control?: HostPort | null;
  /** HTTPS for the control API. */
  tls?: { cert: Buffer; key: Buffer };
  /** Bound on a device's SOCKS5 / CONNECT handshake. @default 10000 */
  handshakeTimeoutMs?: number;
  /** Bound on reaching a destination (DNS plus TCP handshake). @default 10000 */
  connectTimeoutMs?: number;
  /** Largest HTTP CONNECT request head. @default 8192 */
  maxHeaderBytes?: number;
  /** Per-connection bound on the replay cache and on queued upstream bytes. @default 4 MiB */
  maxBuffer?: number;
  /** How long a connection whose device vanished stays resumable. @default 120000 */
  detachHoldMs?: number;
  /** A migration not attached within this rolls back. @default 60000 */
  migrationTimeoutMs?: number;
  /** Idle time before TCP keepalive probes a device; also bounds unacknowledged data. @default 30000 */
  keepaliveMs?: number;
  /** How long a cut-off old device may still deliver its last upstream bytes. @default 5000 */
  letGoTimeoutMs?: number;
  /** How long an attach waits for the old device to acknowledge its last bytes. @default 100 */
  drainWaitMs?: number;
  /** Most simultaneous device sockets (relayed or in handshake). @default 50000 */
  maxConnections?: number;
  /**
   * Destinations that are M-TCP pools: a CONNECT to one of their member addresses is opened with
   * the M-TCP client library, so the server end can migrate within the pool (issue 5). No pools
   * when absent; other destinations always get plain TCP.
   */
  mtcp?: MtcpUpstreamOptions;
}

export interface ProxyComponents {
  authenticator: DeviceAuthenticator;
  logger?: Logger;
  /** Set in a worker of a multi-process proxy (`--workers`): see `src/proxy/cluster/`. */
  cluster?: ClusterHooks;
}

/**
 * How one worker of a multi-process proxy reaches migrations held by another. A target device's
 * connection lands on whichever worker the kernel picks; if another worker holds the migration,
 * the socket is handed over to it.
 */
export interface ClusterHooks {
  /** Hex digit prefixed to this worker's connection and migration ids. */
  idPrefix: string;
  /** The worker that holds a migration this device may attach to, if another one does. */
  findOwner(identity: DeviceIdentity, destination: string, ticket: string | undefined): Promise<number | undefined>;
  /** Passes an accepted device socket to the worker that holds the migration. */
  handoff(owner: number, dev: AttachingDevice, connectedAt: number, destination: string, ticket: string | undefined): Promise<void>;
}

export type ResolvedProxyOptions = Required<Omit<ProxyOptions, 'tls' | 'control' | 'mtcp'>> & Pick<ProxyOptions, 'tls' | 'mtcp'> & {
  control: HostPort | null;
};

export const PROXY_DEFAULTS = {
  listen: { host: '127.0.0.1', port: 1080 },
  control: { host: '127.0.0.1', port: 1081 },
  handshakeTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  maxHeaderBytes: 8192,
  maxBuffer: 4 * 1024 * 1024,
  detachHoldMs: 120_000,
  migrationTimeoutMs: 60_000,
  keepaliveMs: 30_000,
  letGoTimeoutMs: 5_000,
  drainWaitMs: 100,
  maxConnections: 50_000,
} as const;

/** Fills defaults and rejects values that cannot work, naming the option. */
export function resolveProxyOptions(options: ProxyOptions): ResolvedProxyOptions {
  const resolved: ResolvedProxyOptions = {
    ...PROXY_DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    control: options.control === undefined ? PROXY_DEFAULTS.control : options.control,
  } as ResolvedProxyOptions;
  for (const key of [
    'handshakeTimeoutMs', 'connectTimeoutMs', 'maxHeaderBytes', 'maxBuffer', 'detachHoldMs',
    'migrationTimeoutMs', 'keepaliveMs', 'letGoTimeoutMs', 'maxConnections',
  ] as const) {
    const v = resolved[key];
    if (!Number.isFinite(v) || v <= 0) throw new ConfigError(`${key} must be a positive number, got ${v}`);
  }
  if (!Number.isFinite(resolved.drainWaitMs) || resolved.drainWaitMs < 0) {
    throw new ConfigError(`drainWaitMs must be zero or more, got ${resolved.drainWaitMs}`);
  }
  if (resolved.maxBuffer < 65_536) throw new ConfigError('maxBuffer must be at least 65536 bytes');
  if (resolved.mtcp) validateMtcpOptions(resolved.mtcp);
  return resolved;
}
